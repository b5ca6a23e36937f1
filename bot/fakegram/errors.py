"""Bot API error responses, raised by method handlers and turned into JSON."""

from __future__ import annotations

from typing import Any

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    def __init__(self, status: int, description: str | None = None, retry_after: int | None = None):
        if description is None:
            description = default_description(status, retry_after)
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def default_description(status: int, retry_after: int | None = None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after or 0}"
    return DEFAULT_DESCRIPTIONS.get(status, "Bad Request")


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


CHAT_NOT_FOUND = "chat not found"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup of the message "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
