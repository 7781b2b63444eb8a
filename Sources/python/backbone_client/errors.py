"""The error a refused publish raises."""
from __future__ import annotations


class PublishError(Exception):
    """The service refused an event: `code` is its `error_code` (e.g. VALIDATION_ERROR), `status` the HTTP status."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status

    @property
    def retryable(self) -> bool:
        """Worth retrying later: the service is busy, has no broker, or the publish budget is spent."""
        return self.code in ("RATE_LIMIT_EXCEEDED", "BROKER_UNAVAILABLE", "SHUTTING_DOWN", "SERVER_AT_CAPACITY") \
            or self.status in (502, 503)
