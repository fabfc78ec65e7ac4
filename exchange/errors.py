"""Domain exceptions: a refusal with an HTTP status and a stable machine `code`.

Pure Python, so that pure modules (lifecycles, pricing, netting) can raise them;
`exchange.http.problems` turns them into problem+json.
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


class TooManyRequests(DomainError):
    """A refusal to retry later: `retry_after` seconds go out as the Retry-After header."""

    status, code, title = 429, "rate_limited", "Too Many Requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after
