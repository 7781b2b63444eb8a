"""The error a refused publish or request raises."""
from __future__ import annotations

from typing import Any


class PublishError(Exception):
    """The service refused an event or a request: `code` is its `error_code` (e.g. VALIDATION_ERROR, NOT_FOUND),
    `status` the HTTP status (None over the WebSocket)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> "PublishError":
        """The error a WebSocket `error` frame describes."""
        return cls(frame.get("error_code") or "ERROR", frame.get("error_message") or "")

    @property
    def retryable(self) -> bool:
        """Worth retrying later: the service is busy, has no broker, or the publish budget is spent."""
        return self.code in ("RATE_LIMIT_EXCEEDED", "BROKER_UNAVAILABLE", "SHUTTING_DOWN", "SERVER_AT_CAPACITY") \
            or self.status in (502, 503)
