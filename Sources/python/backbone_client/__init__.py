"""Clients for the real-time backbone services.

- `Publisher`: publish events (one, or batches) over HTTP or one WebSocket, with typed methods generated from
  the service's catalogue (`workflow_started(workflow_id=..., ...)`), retries on 503, BROKER_UNAVAILABLE and
  RATE_LIMIT_EXCEEDED.
- `Subscriber`: subscribe to rooms, reconnect by itself and resume from the last position seen.
"""
from .errors import PublishError
from .publisher import Publisher
from .subscriber import RoomEvent, Subscriber

__all__ = ["Publisher", "PublishError", "RoomEvent", "Subscriber"]
