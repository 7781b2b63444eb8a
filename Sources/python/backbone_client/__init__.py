"""Clients for the real-time backbone services.

- `Publisher`: publish events (one, or batches) over HTTP or one WebSocket, with typed methods generated from
  the service's catalogue (`workflow_started(workflow_id=..., ...)`), retries on 503, BROKER_UNAVAILABLE and
  RATE_LIMIT_EXCEEDED; direct messages to a user or a connection (`send_to_user`, `send_to_connection`).
- `Subscriber`: subscribe to rooms, reconnect by itself and resume from the last position seen; receives direct
  messages (`DirectMessage`), asks who is in a room (`presence`), publishes to client-to-client rooms it is in.
"""
from .errors import PublishError
from .publisher import Publisher
from .subscriber import DirectMessage, Presence, RoomEvent, Subscriber

__all__ = ["DirectMessage", "Presence", "Publisher", "PublishError", "RoomEvent", "Subscriber"]
