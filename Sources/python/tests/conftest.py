"""Real services for the tests: the debug binaries of this checkout (or $BACKBONE_BIN_DIR), on free ports."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN_DIR = Path(os.environ.get("BACKBONE_BIN_DIR", ROOT / ".build" / "debug"))
API_KEY = "python-client-key"
JWT_SECRET = "python-client-secret"


def token(user: str, *permissions: str) -> str:
    """An HS256 token for the services started with `auth=True`: `sub` is the user."""
    def encode(part: bytes) -> str:
        return base64.urlsafe_b64encode(part).rstrip(b"=").decode()
    claims = {"sub": user, "exp": int(time.time()) + 600, "permissions": list(permissions)}
    signed = encode(b'{"alg":"HS256","typ":"JWT"}') + "." + encode(json.dumps(claims).encode())
    return signed + "." + encode(hmac.new(JWT_SECRET.encode(), signed.encode(), hashlib.sha256).digest())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def restart(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=15)
        self.process = _spawn(self.name, self.env)
        _wait_healthy(self.port)


def _spawn(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BIN_DIR / name)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def _wait_healthy(port: int) -> None:
    for _ in range(400):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"service on {port} did not start")


def start(name: str, auth: bool = False) -> Service:
    prefix = name.upper().replace("-", "_")
    port = free_port()
    env = dict(os.environ, **{f"{prefix}_WS_PORT": str(port), f"{prefix}_WS_LOG_LEVEL": "warning"})
    if name == "session-buddy":
        env["SESSION_BUDDY_WS_METRICS_STREAM_PORT"] = "0"
    if auth:
        env.update({f"{prefix}_AUTH_ENABLED": "true", f"{prefix}_JWT_SECRET": JWT_SECRET,
                    f"{prefix}_API_KEYS": API_KEY})
    service = Service(name, port, _spawn(name, env), env)
    _wait_healthy(port)
    return service


@pytest.fixture
def service(request: pytest.FixtureRequest):
    name, auth = getattr(request, "param", ("mahavishnu", False))
    running = start(name, auth)
    yield running
    running.process.send_signal(signal.SIGTERM)
    running.process.wait(timeout=15)
