"""Subscribing to rooms, with reconnect and resume: the rules of the Swift and JavaScript clients."""
from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import websockets

from .errors import PublishError


@dataclass(frozen=True)
class RoomEvent:
    room: str
    event: str | None
    data: dict[str, Any]
    seq: int | None = None
    epoch: str | None = None


@dataclass
class _Position:
    seq: int
    epoch: str


@dataclass
class Subscriber:
    """Yields the events of `rooms`, reconnecting by itself (full-jitter backoff) and resubscribing each room from
    the last position seen, so nothing is missed or repeated within the server's history.

        async with Subscriber("ws://127.0.0.1:8690/ws", ["workflow:wf1"]) as events:
            async for event in events:
                print(event.event, event.data)

    `resyncs` lists the rooms the server could not replay after a reconnection (re-read their state).
    A refused credential (1008) or an expired token (4003) ends the iteration with `PublishError`.
    """

    url: str
    rooms: list[str]
    token: str | None = None
    api_key: str | None = None
    initial_delay: float = 0.2
    max_delay: float = 10.0
    resyncs: list[str] = field(default_factory=list)
    _positions: dict[str, _Position] = field(default_factory=dict)
    _socket: Any = None
    _closed: bool = False

    async def __aenter__(self) -> "Subscriber":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._socket is not None:
            await self._socket.close()

    def __aiter__(self) -> AsyncIterator[RoomEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[RoomEvent]:
        failures = 0
        while not self._closed:
            try:
                async for event in self._session():
                    failures = 0
                    yield event
            except (OSError, websockets.InvalidHandshake, asyncio.TimeoutError):
                pass
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code == 1008:
                    raise PublishError("AUTH_FAILED", "authentication refused (1008)") from closed
                if code == 4003:
                    raise PublishError("TOKEN_EXPIRED", "token expired (4003): start again with a new token") from closed
            if self._closed:
                return
            failures += 1
            await asyncio.sleep(random.uniform(0, min(self.max_delay, self.initial_delay * 2 ** failures)))

    async def _session(self) -> AsyncIterator[RoomEvent]:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        async with websockets.connect(self.url, additional_headers=headers, max_size=None) as socket:
            self._socket = socket
            for room in self.rooms:
                data: dict[str, Any] = {"channel": room}
                if room in self._positions:
                    data["since"] = {"seq": self._positions[room].seq, "epoch": self._positions[room].epoch}
                await socket.send(json.dumps({"type": "request", "event": "subscribe", "id": f"sub:{room}", "data": data}))
            async for text in socket:
                message = json.loads(text)
                kind = message.get("type")
                if kind == "response" and str(message.get("correlation_id", "")).startswith("sub:"):
                    self._subscribed(message)
                elif kind == "error" and str(message.get("correlation_id", "")).startswith("sub:"):
                    raise PublishError(message.get("error_code") or "ERROR", message.get("error_message") or "")
                elif kind == "event" and message.get("room") in self.rooms:
                    event = self._accept(message)
                    if event is not None:
                        yield event
            self._socket = None

    def _subscribed(self, reply: dict[str, Any]) -> None:
        data = reply.get("data") or {}
        room = data.get("channel")
        if room is None:
            return
        if data.get("recovered") is False:
            self.resyncs.append(room)
        if (room not in self._positions or data.get("recovered") is False) and "seq" in data and "epoch" in data:
            self._positions[room] = _Position(int(data["seq"]), str(data["epoch"]))

    def _accept(self, message: dict[str, Any]) -> RoomEvent | None:
        room, seq, epoch = message["room"], message.get("seq"), message.get("epoch")
        last = self._positions.get(room)
        if seq is not None and epoch is not None:
            if last is not None and last.epoch == epoch and seq <= last.seq:
                return None  # already seen: a replay overlapping what arrived live
            self._positions[room] = _Position(int(seq), str(epoch))
        return RoomEvent(room, message.get("event"), message.get("data") or {}, seq, epoch)
