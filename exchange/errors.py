"""Domain exceptions: a refusal with an HTTP status and a stable machine `code`.

Pure Python, so that pure modules (lifecycles, pricing, netting) can raise them;
`exchange.problems` turns them into problem+json.
"""

from __future__ import annotations

from http import HTTPStatus


class DomainError(Exception):
    """A refusal the client can act on. Subclasses fix status and code."""

    status = 400
    code = "bad_request"
    title = "Bad Request"

    def __init__(self, detail: str | None = None, *, code: str | None = None,
                 status: int | None = None, **extra) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        if status and status != self.status:
            self.status = status
            self.title = HTTPStatus(status).phrase
        self.extra = extra


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not Found"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(DomainError):
    status, code, title = 422, "unprocessable", "Unprocessable Entity"


