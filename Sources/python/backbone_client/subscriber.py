"""Subscribing to rooms, with reconnect and resume: the rules of the Swift and JavaScript clients."""
from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import websockets

from .correlation import PendingRequests
from .errors import PublishError

_BACKLOG = 1024  # events read but not yet taken by the iteration; past it, reading waits


@dataclass(frozen=True)
class RoomEvent:
    room: str
    event: str | None
    data: dict[str, Any]
    seq: int | None = None
    epoch: str | None = None
    publisher: str | None = None  # who published it, as the server stamped it (with auth on)
    from_connection: str | None = None  # the publishing connection, in client-to-client rooms


@dataclass(frozen=True)
class DirectMessage:
    """An event sent to this connection (`to_connection`) or to every connection of its user (`to_user`)."""

    event: str
    data: dict[str, Any]
    publisher: str | None = None
    from_connection: str | None = None  # the sender, when it sent over a WebSocket: answer with send_to_connection
    to_user: str | None = None
    to_connection: str | None = None


@dataclass(frozen=True)
class Presence:
    """Who is in a room whose channel reports presence: the `presence` request's answer."""

    @dataclass(frozen=True)
    class Member:
        connection_id: str
        user_id: str | None
        joined_at: str | None  # ISO 8601

    room: str
    mode: str  # "members", or "count" for rooms that report counts only (then `members` is empty)
    count: int
    members: list[Member]
    truncated: bool  # more members than listed (`limit`)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> "Presence":
        members = [cls.Member(m["connection_id"], m.get("user_id"), m.get("joined_at")) for m in data.get("members", [])]
        return cls(data["room"], data["mode"], int(data["count"]), members, bool(data.get("truncated", False)))


Item = RoomEvent | DirectMessage


@dataclass
class _Position:
    seq: int
    epoch: str


@dataclass
class Subscriber:
    """Yields the events of `rooms`, reconnecting by itself (full-jitter backoff) and resubscribing each room from
    the last position seen, so nothing is missed or repeated within the server's history; and the direct
    messages sent to its connection or user (`DirectMessage`, no position).

        async with Subscriber("ws://127.0.0.1:8690/ws", ["workflow:wf1"]) as events:
            async for event in events:
                print(event.event, event.data)

    `resyncs` lists the rooms the server could not replay after a reconnection (re-read their state).
    A refused credential (1008) or an expired token (4003) ends the iteration with `PublishError`.
    `connection_id` and `user_id` are the current connection's (from its welcome; None while disconnected).
    `request`, `presence` and `publish` go over the same connection (waiting up to `timeout` for it), also from
    inside the `async for` body: a task started on entering (or on iterating) reads the socket.
    """

    url: str
    rooms: list[str]
    token: str | None = None
    api_key: str | None = None
    initial_delay: float = 0.2
    max_delay: float = 10.0
    timeout: float = 10.0
    resyncs: list[str] = field(default_factory=list)
    connection_id: str | None = field(default=None, init=False)
    user_id: str | None = field(default=None, init=False)
    _positions: dict[str, _Position] = field(default_factory=dict)
    _socket: Any = None
    _closed: bool = False
    _reader: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _items: asyncio.Queue[Item | Exception | None] = field(
        default_factory=lambda: asyncio.Queue(_BACKLOG), init=False, repr=False)
    _requests: PendingRequests = field(default_factory=PendingRequests, init=False, repr=False)
    _welcomed: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _failures: int = field(default=0, init=False, repr=False)  # connections in a row that got no welcome

    async def __aenter__(self) -> "Subscriber":
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait({self._reader})
        while not self._items.empty():
            self._items.get_nowait()
        self._items.put_nowait(None)  # wakes an iteration waiting for the next item

    def __aiter__(self) -> AsyncIterator[Item]:
        return self._events()

    async def request(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Sends a request over this subscriber's connection (waiting up to `timeout` for one); returns the reply's
        `data`. An `error` reply raises `PublishError` with its code."""
        self._start()
        if not self._closed:
            try:
                await asyncio.wait_for(self._welcomed.wait(), self.timeout)
            except asyncio.TimeoutError:
                pass
        if self._socket is None or not self._welcomed.is_set():
            raise PublishError("NOT_CONNECTED", "closed" if self._closed else f"no connection within {self.timeout} s")
        return await self._requests.send(self._socket, event, data or {}, self.timeout)

    async def presence(self, room: str, limit: int | None = None) -> Presence:
        """Who is in `room` (its channel must report presence; the caller may subscribe to it), at most `limit`
        members listed (the server's default and ceiling: presence_max_members)."""
        data: dict[str, Any] = {"room": room}
        if limit is not None:
            data["limit"] = limit
        return Presence.parse(await self.request("presence", data))

    async def publish(self, room: str, event: str, data: dict[str, Any] | None = None) -> int:
        """Publishes over this connection: to a client-to-client room it is subscribed to (e.g. `collab.edit` to
        `collab:{session_id}`), or anywhere with the publish right. Returns how many subscribers got it."""
        reply = await self.request("publish", {"room": room, "event": event, "data": data or {}})
        return int(reply.get("subscribers", 0))

    def _start(self) -> None:
        if self._reader is None and not self._closed:
            self._reader = asyncio.create_task(self._read())

    async def _events(self) -> AsyncIterator[Item]:
        self._start()
        while not self._closed:
            item = await self._items.get()
            if isinstance(item, Exception):
                raise item
            if item is not None:
                yield item

    async def _read(self) -> None:
        try:
            await self._connect()
        except Exception as error:  # the iteration raises it
            await self._items.put(error)

    async def _connect(self) -> None:
        while not self._closed:
            try:
                await self._session()
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
            self._failures += 1
            await asyncio.sleep(random.uniform(0, min(self.max_delay, self.initial_delay * 2 ** self._failures)))

    async def _session(self) -> None:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        async with websockets.connect(self.url, additional_headers=headers, max_size=None) as socket:
            self._socket = socket
            try:
                for room in self.rooms:
                    data: dict[str, Any] = {"channel": room}
                    if room in self._positions:
                        data["since"] = {"seq": self._positions[room].seq, "epoch": self._positions[room].epoch}
                    await socket.send(json.dumps({"type": "request", "event": "subscribe", "id": f"sub:{room}", "data": data}))
                async for text in socket:
                    message = json.loads(text)
                    kind = message.get("type")
                    if self._requests.resolve(message):
                        continue
                    if kind == "response" and str(message.get("correlation_id", "")).startswith("sub:"):
                        self._subscribed(message)
                    elif kind == "error" and str(message.get("correlation_id", "")).startswith("sub:"):
                        raise PublishError.from_frame(message)
                    elif kind == "event":
                        item = self._accept(message)
                        if item is not None:
                            await self._items.put(item)
            finally:
                self._socket, self.connection_id, self.user_id = None, None, None
                self._welcomed.clear()
                self._requests.fail(PublishError("CONNECTION_CLOSED", "the connection closed; it reconnects by itself"))

    def _subscribed(self, reply: dict[str, Any]) -> None:
        data = reply.get("data") or {}
        room = data.get("channel")
        if room is None:
            return
        if data.get("recovered") is False:
            self.resyncs.append(room)
        if (room not in self._positions or data.get("recovered") is False) and "seq" in data and "epoch" in data:
            self._positions[room] = _Position(int(data["seq"]), str(data["epoch"]))

    def _accept(self, message: dict[str, Any]) -> Item | None:
        room, seq, epoch, data = message.get("room"), message.get("seq"), message.get("epoch"), message.get("data") or {}
        publisher, sender = message.get("publisher"), message.get("from_connection")
        if room is None:  # a direct message (no position), or the welcome
            to_user, to_connection = message.get("to_user"), message.get("to_connection")
            if to_user is not None or to_connection is not None:
                return DirectMessage(message.get("event") or "", data, publisher, sender, to_user, to_connection)
            if self.connection_id is None and "connection_id" in data:
                self.connection_id, self.user_id = data["connection_id"], data.get("user_id")
                self._failures = 0
                self._welcomed.set()
            return None
        if room not in self.rooms:
            return None
        last = self._positions.get(room)
        if seq is not None and epoch is not None:
            if last is not None and last.epoch == epoch and seq <= last.seq:
                return None  # already seen: a replay overlapping what arrived live
            self._positions[room] = _Position(int(seq), str(epoch))
        return RoomEvent(room, message.get("event"), data, seq, epoch, publisher, sender)
