"""Publishing to a service, over HTTP (keep-alive) or one WebSocket connection."""
from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any, Literal
from urllib.parse import quote

import httpx
import websockets

from . import catalog
from .correlation import PendingRequests
from .errors import PublishError

_RETRY_AFTER = re.compile(r"Retry after ([0-9.]+) seconds")


class Publisher:
    """Publishes events to one service; use as an async context manager.

        async with Publisher("http://127.0.0.1:8690", api_key="...") as mahavishnu:
            await mahavishnu.workflow_started(workflow_id="wf1", adapter="prefect", prompt="Build it")
            await mahavishnu.publish("global", "deploy.finished", {"version": "1.2"})
            await mahavishnu.send_to_user("alice", "build.ready", {"url": "..."})  # a direct message

    `transport="websocket"` publishes over one WebSocket connection instead (up to `window` publishes in flight).
    A refused event raises `PublishError`; 503, `BROKER_UNAVAILABLE` and `RATE_LIMIT_EXCEEDED` are retried
    `retries` times with backoff (honouring the server's retry hint) first.
    """

    def __init__(self, base_url: str, api_key: str | None = None, *, transport: Literal["http", "websocket"] = "http",
                 retries: int = 5, timeout: float = 10.0, window: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key, self.transport, self.retries, self.timeout = api_key, transport, retries, timeout
        self._window = asyncio.Semaphore(window)
        self._headers = {"X-API-Key": api_key} if api_key else {}
        self._http: httpx.AsyncClient | None = None
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._requests = PendingRequests()
        self._methods: dict[str, Any] = {}
        self.events: list[catalog.EventSpec] = []

    async def __aenter__(self) -> "Publisher":
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=self._headers, timeout=self.timeout)
        response = await self._http.get("/api/catalog")
        response.raise_for_status()
        self.events = catalog.parse(response.json())
        self._methods = catalog.make_methods(self.events, self.publish)
        if self.transport == "websocket":
            url = "ws" + self.base_url[len("http"):] + "/ws"
            self._socket = await websockets.connect(url, additional_headers=self._headers, max_size=None)
            welcome = json.loads(await self._socket.recv())
            if welcome.get("type") == "error":
                raise PublishError.from_frame(welcome)
            self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader:
            self._reader.cancel()
        if self._socket:
            await self._socket.close()
        if self._http:
            await self._http.aclose()

    def __getattr__(self, name: str) -> Any:
        methods = self.__dict__.get("_methods", {})
        if name in methods:
            return methods[name]
        raise AttributeError(f"{name!r}: not an event of this service ({', '.join(sorted(methods)) or 'not connected'})")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._methods))

    async def publish(self, room: str, event: str | None, data: dict[str, Any] | None = None) -> int:
        """Publishes one event; returns how many subscribers (of the receiving instance) got it."""
        item = {"room": room, "event": event, "data": data or {}}
        reply = await self._with_retries(lambda: self._send_one(item))
        return int(reply.get("subscribers", 0))

    async def publish_batch(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Publishes `[{room, event, data}, ...]` in one request: the valid ones are delivered in order even when
        others are refused. Returns one result per event (`status` `published` with `subscribers`, or `refused`
        with `error_code` and `error_message`)."""
        reply = await self._with_retries(lambda: self._send_batch(events))
        return list(reply.get("results", []))

    async def send_to_user(self, user_id: str, event: str, data: dict[str, Any] | None = None) -> int:
        """Sends a direct message to every connection of `user_id` (its token's `sub`), on any instance; returns
        how many connections got it. Nobody there raises `PublishError` NOT_FOUND."""
        return await self._send_direct("to_user", user_id, event, data)

    async def send_to_connection(self, connection_id: str, event: str, data: dict[str, Any] | None = None) -> int:
        """Sends a direct message to one connection (the id of its welcome, or an event's `from_connection`);
        returns 1. Nobody there raises `PublishError` NOT_FOUND."""
        return await self._send_direct("to_connection", connection_id, event, data)

    # Transport

    async def _send_one(self, item: dict[str, Any]) -> dict[str, Any]:
        if self._socket is None:
            return await self._post(item)
        return await self._request({"room": item["room"], "event": item["event"], "data": item["data"]})

    async def _send_batch(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        if self._socket is None:
            return await self._post(events)
        return await self._request({"events": events})

    async def _send_direct(self, key: str, target: str, event: str, data: dict[str, Any] | None) -> int:
        """`key` `to_user` or `to_connection`: the WebSocket request's field, naming the HTTP route too."""
        body = {"event": event, "data": data or {}}
        path = f"/api/{'users' if key == 'to_user' else 'connections'}/{quote(target, safe='')}/events"

        async def attempt() -> dict[str, Any]:
            if self._socket is None:
                return await self._post(body, path)
            return await self._request({key: target, **body})

        reply = await self._with_retries(attempt)
        return int(reply.get("connections", 0))

    async def _post(self, body: Any, path: str = "/api/events") -> dict[str, Any]:
        assert self._http is not None, "use `async with Publisher(...)`"
        response = await self._http.post(path, json=body)
        reply = response.json()
        if response.status_code != 200:
            raise PublishError(reply.get("error_code", "HTTP_ERROR"), reply.get("error_message", response.text),
                               response.status_code)
        return reply

    async def _request(self, data: dict[str, Any]) -> dict[str, Any]:
        async with self._window:
            return await self._requests.send(self._socket, "publish", data, self.timeout)

    async def _read(self) -> None:
        try:
            async for text in self._socket:
                self._requests.resolve(json.loads(text))
        except websockets.ConnectionClosed as closed:
            self._requests.fail(
                PublishError("CONNECTION_CLOSED", f"the connection closed ({closed.rcvd.code if closed.rcvd else 1006})"))

    async def _with_retries(self, attempt: Any) -> dict[str, Any]:
        for n in range(self.retries + 1):
            try:
                return await attempt()
            except PublishError as error:
                if not error.retryable or n == self.retries:
                    raise
                hint = _RETRY_AFTER.search(error.message)
                delay = float(hint.group(1)) if hint else random.uniform(0, min(5.0, 0.1 * 2 ** n))
                await asyncio.sleep(max(delay, 0.001))
        raise AssertionError("unreachable")
