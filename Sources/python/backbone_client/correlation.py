"""Requests over one WebSocket, matched to their replies by correlation id (the Publisher's and the Subscriber's)."""
from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from .errors import PublishError


class PendingRequests:
    """Sends requests and hands each reply, read by whoever reads the socket, to the request it answers."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def send(self, socket: Any, event: str, data: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Sends `{"type":"request","event":event,"data":data}`; returns the reply's `data`, raises `PublishError`
        for an `error` reply or a connection lost meanwhile, `asyncio.TimeoutError` after `timeout` seconds."""
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            await socket.send(json.dumps({"type": "request", "event": event, "id": request_id, "data": data}))
            reply = await asyncio.wait_for(future, timeout)
        finally:
            self._waiting.pop(request_id, None)
        if reply.get("type") == "error":
            raise PublishError.from_frame(reply)
        return reply.get("data") or {}

    def resolve(self, message: dict[str, Any]) -> bool:
        """Hands `message` to the request it answers; False when it answers none of them."""
        future = self._waiting.get(message.get("correlation_id") or "")
        if future is None:
            return False
        if not future.done():
            future.set_result(message)
        return True

    def fail(self, error: PublishError) -> None:
        """The connection is gone: every request still waiting raises `error`."""
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
