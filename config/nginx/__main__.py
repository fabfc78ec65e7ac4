"""Print exchange.conf for nginx: `python -m config.nginx --listen 80 10.0.0.11:8000 10.0.0.12:8000`."""

import argparse

from config.nginx import render

parser = argparse.ArgumentParser(prog="python -m config.nginx", description=__doc__)
parser.add_argument("--listen", default="80", help="port, or address:port, nginx listens on (default 80)")
parser.add_argument("servers", nargs="+", help="host:port of each exchange server")
args = parser.parse_args()
print(render(args.listen, args.servers), end="")
