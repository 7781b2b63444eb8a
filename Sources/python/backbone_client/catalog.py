"""Typed publish methods made from a service's catalogue (`GET /api/catalog`).

Each event becomes a method named after it with dots as underscores (`workflow.started` → `workflow_started`)
taking its fields as keyword arguments; the room is built from the channel template and the field of the same
name (`workflow:{workflow_id}`), so `workflow_started(workflow_id="wf1", adapter="a", prompt="p")` publishes to
`workflow:wf1`. An event catalogued in several channels goes to the first whose parameter is given (or pass
`room=`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

_PARAMETER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class EventSpec:
    name: str | None  # None: an event sent without a name
    channel: str
    required: tuple[str, ...]
    fields: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]
    summary: str

    @property
    def parameter(self) -> str | None:
        match = _PARAMETER.search(self.channel)
        return match.group(1) if match else None

    def room(self, data: dict[str, Any]) -> str | None:
        """The room for `data`, or None when the channel's parameter is missing."""
        parameter = self.parameter
        if parameter is None:
            return self.channel
        value = data.get(parameter)
        return None if value is None else _PARAMETER.sub(str(value), self.channel)


def parse(catalog: dict[str, Any]) -> list[EventSpec]:
    specs = []
    for event in catalog.get("events", []):
        fields = event.get("fields", [])
        specs.append(EventSpec(
            name=event.get("name"), channel=event["channel"],
            required=tuple(f["name"] for f in fields if f.get("required")),
            fields=tuple(f["name"] for f in fields),
            aliases={f["name"]: tuple(f.get("aliases", [])) for f in fields},
            summary=event.get("summary", "")))
    return specs


def method_name(event: str) -> str:
    return event.replace(".", "_").replace("-", "_")


def make_methods(specs: list[EventSpec], publish: Callable[[str, str | None, dict[str, Any]], Awaitable[int]]
                 ) -> dict[str, Callable[..., Awaitable[int]]]:
    """One coroutine function per named event."""
    by_name: dict[str, list[EventSpec]] = {}
    for spec in specs:
        if spec.name:
            by_name.setdefault(spec.name, []).append(spec)
    methods = {}
    for name, candidates in by_name.items():
        methods[method_name(name)] = _method(name, candidates, publish)
    return methods


def _method(name: str, candidates: list[EventSpec], publish: Callable[..., Awaitable[int]]) -> Callable[..., Awaitable[int]]:
    async def method(*, room: str | None = None, **data: Any) -> int:
        spec = candidates[0]
        if room is None:
            for candidate in candidates:
                room = candidate.room(data)
                if room is not None:
                    spec = candidate
                    break
        if room is None:
            wanted = " or ".join(c.parameter or c.channel for c in candidates)
            raise TypeError(f"{method_name(name)}() needs {wanted} (the room's parameter), or room=")
        missing = [f for f in spec.required if f not in data and not any(a in data for a in spec.aliases.get(f, ()))]
        if missing:
            raise TypeError(f"{method_name(name)}() missing required field(s): {', '.join(missing)}")
        return await publish(room, name, data)

    method.__name__ = method_name(name)
    fields = ", ".join(candidates[0].fields)
    method.__doc__ = f"Publish `{name}` to {' or '.join(c.channel for c in candidates)}: {candidates[0].summary}. Fields: {fields}."
    return method
