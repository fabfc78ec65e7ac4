"""A webhook receiver for the README walk-through and docs/webhooks.md: verifies every delivery
with the standardwebhooks library and prints what it got.

    WEBHOOK_SECRET=whsec_... python scripts/webhook_receiver.py --port 8787
"""

from __future__ import annotations

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

seen: set[str] = set()  # webhook-ids handled: a retry of one already handled is acknowledged only


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = Webhook(os.environ["WEBHOOK_SECRET"]).verify(body, dict(self.headers))
        except WebhookVerificationError as error:
            print(f"refused: {error}", flush=True)
            self.send_response(400)
            self.end_headers()
            return
        if event["id"] not in seen:
            seen.add(event["id"])
            print(f"verified {event['type']} {event['id']}: {json.dumps(event['data'], ensure_ascii=False)}",
                  flush=True)
        self.send_response(204)  # answer quickly; do slow work after (or queue it)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787)
    port = parser.parse_args().port
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
