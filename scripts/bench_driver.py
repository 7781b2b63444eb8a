#!/usr/bin/env python3
"""Runs every server x scenario of the benchmark and prints one JSON line per run, then the ratios.

Started by scripts/bench (which builds and installs first). Stdlib only. For each run: start the server
pinned to CPU 0 (taskset), wait until it listens, run the load generator pinned to CPU 1, add the
server's totals from /proc, stop the server (SIGTERM, then SIGKILL after 10 s) and reap it. Every wait
is bounded; every child is killed on exit or on a signal.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time

CHILDREN: list[subprocess.Popen] = []

# Scenario sizes: (full, quick). "rooms" is scenario (d); "idle100k" runs against our server only.
SIZES = {
    "fanout": ({"subscribers": 1000, "publishes": 2000}, {"subscribers": 200, "publishes": 500}),
    "fanout_rate10": ({"subscribers": 1000, "publishes": 200}, {"subscribers": 200, "publishes": 20}),
    "connect": ({"connections": 10000, "hold": 2}, {"connections": 1000, "hold": 1}),
    "ping": ({"connections": 50, "in-flight": 10, "duration": 10}, {"connections": 50, "in-flight": 10, "duration": 2}),
    "rooms": ({"subscribers": 10000, "rooms": 100, "publishes": 10000},
              {"subscribers": 200, "rooms": 10, "publishes": 500}),
    "idle100k": ({"connections": 100000, "hold": 3}, None),
    # Issue 7: the fan-out of scenario (a) through Redis, ours only: one instance with broker redis, and two
    # instances sharing one redis-server (subscribers alternate between them, the publisher is on the first).
    "fanout_redis1": ({"subscribers": 1000, "publishes": 2000}, {"subscribers": 200, "publishes": 500}),
    "fanout_redis2": ({"subscribers": 1000, "publishes": 2000}, {"subscribers": 200, "publishes": 500}),
}
# Issue 16: one producer publishing to 1000 subscribers in `global`, over one WebSocket (64 requests in
# flight) or HTTP (one keep-alive connection, one request in flight), in batches of 1, 10 and 100. Ours only
# (the peers have neither batches nor an HTTP publish).
PRODUCERS = {f"producer_{transport}_b{batch}": (transport, batch) for transport in ("ws", "http") for batch in (1, 10, 100)}
for _name, (_transport, _batch) in PRODUCERS.items():
    SIZES[_name] = ({"subscribers": 1000, "publishes": 2000 if _batch == 1 and _transport == "http" else 10000},
                    {"subscribers": 200, "publishes": 500})
# Issue 18: fan-out of 1 KiB and 16 KiB payloads of test-report text to 1000 subscribers, plain and with
# permessage-deflate: ours with `compression: shared` (the default), socketify with uWS' shared compressor,
# py_websockets with its default deflate (scripts/deflate_peer.py turns the peers' compression back on).
# Ours only: the same with `compression: dedicated` (a context per connection), and idle connections that
# negotiated deflate (memory per connection).
COMPRESSED = {f"fanout_{kib}k{suffix}": kib for kib in (1, 16) for suffix in ("", "_deflate")}
COMPRESSED["fanout_1k_deflate_dedicated"] = 1
for _name, _kib in COMPRESSED.items():
    SIZES[_name] = ({"subscribers": 1000, "publishes": 1000 if _kib == 1 else 200, "payload-bytes": _kib * 1024},
                    {"subscribers": 100, "publishes": 50, "payload-bytes": _kib * 1024})
SIZES["connect_deflate"] = SIZES["connect_deflate_dedicated"] = SIZES["connect"]
DEFLATE = {name for name in [*COMPRESSED, "connect_deflate", "connect_deflate_dedicated"] if "_deflate" in name}
DEDICATED = {"fanout_1k_deflate_dedicated", "connect_deflate_dedicated"}
ORDER = ["fanout", "fanout_rate10", "connect", "ping", "rooms", "idle100k", "fanout_redis1", "fanout_redis2", *PRODUCERS,
         *COMPRESSED, "connect_deflate", "connect_deflate_dedicated"]
OURS_ONLY = {"idle100k", "fanout_redis1", "fanout_redis2", *PRODUCERS, *DEDICATED, "connect_deflate"}
REDIS_INSTANCES = {"fanout_redis1": 1, "fanout_redis2": 2}

# What the ratio table compares: (scenario, metric path, lower_is_better).
RATIOS = [
    ("fanout", "deliveries_per_s", False), ("fanout", "latency_ms.p99", True),
    ("fanout_rate10", "latency_ms.p50", True), ("fanout_rate10", "latency_ms.p99", True),
    ("connect", "connects_per_s", False), ("connect", "handshake_ms.p99", True),
    ("connect", "rss_per_connection_kib", True),
    ("ping", "round_trips_per_s", False), ("ping", "latency_ms.p99", True),
    ("rooms", "deliveries_per_s", False), ("rooms", "latency_ms.p99", True),
    *((name, path, lower) for name in COMPRESSED if name not in DEDICATED
      for path, lower in (("deliveries_per_s", False), ("server_cpu_us_per_delivery", True))),
]


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, wait (bounded), then SIGKILL; always reaps, so no zombie is left behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc in CHILDREN:
        CHILDREN.remove(proc)


def stop_all(*_signal) -> None:
    for proc in list(CHILDREN):
        stop(proc, grace=3)
    if _signal:
        sys.exit(130)


def proc_usage(pid: int) -> dict:
    """Total CPU seconds and memory of a process, from /proc/<pid>/stat and /status."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    kib = lambda key: int(status.get(key, "0 kB").split()[0])  # noqa: E731
    return {"server_total_cpu_s": round((int(fields[11]) + int(fields[12])) / ticks, 2),
            "server_final_rss_kib": kib("VmRSS"), "server_vmhwm_kib": kib("VmHWM")}


def system_busy_s() -> float:
    """Busy CPU seconds of the whole machine so far (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit_s: float, threshold_pct: float = 25.0) -> float:
    """Waits (at most `limit_s`) until the machine is nearly idle: other jobs (builds) on this 2-core box
    steal CPU from the pinned server and client. Returns the busy percent of the last 1 s sample."""
    deadline = time.monotonic() + limit_s
    while True:
        before = system_busy_s()
        time.sleep(1)
        busy = 100 * (system_busy_s() - before)
        if busy < threshold_pct or time.monotonic() >= deadline:
            return round(busy, 1)


class Server:
    """How to start one server under test and tell when it listens."""

    def __init__(self, name: str, argv: list[str], path: str, ready_line: bool, cwd: str):
        self.name, self.argv, self.path, self.ready_line, self.cwd = name, argv, path, ready_line, cwd

    def compressing(self, root: str) -> "Server":
        """A peer with its engine's permessage-deflate on (scripts/deflate_peer.py); ours negotiates it already."""
        if self.name == "ours":
            return self
        python, script = self.argv
        return Server(self.name, [python, os.path.join(root, "scripts", "deflate_peer.py"), script], self.path,
                      self.ready_line, self.cwd)

    def start(self, port: int, log_dir: str, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
        log_path = os.path.join(log_dir, f"{self.name}-{port}.log")
        out = open(log_path, "w")
        # Our service reads MAHAVISHNU_* variables (auth, limits): drop them so every run sees the same settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAHAVISHNU_")}
        proc = subprocess.Popen(["taskset", "-c", "0", *self.argv, *extra, "--port", str(port)], env=env, cwd=self.cwd,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        CHILDREN.append(proc)
        deadline = time.monotonic() + 60  # the reference peer unpacks its wheel on first start
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {proc.returncode}; see {log_path}")
            if self.listening(port) and (not self.ready_line or "READY" in open(log_path).read(65536)):
                return proc, log_path
            time.sleep(0.05)
        stop(proc)
        raise RuntimeError(f"{self.name} did not listen on {port} within 60 s; see {log_path}")

    @staticmethod
    def listening(port: int) -> bool:
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0


def servers(a: argparse.Namespace) -> list[Server]:
    ours = Server("ours", [os.path.join(a.bin_dir, "mahavishnu"), "--max-connections", "200000",
                           "--event-loop-threads", "1", "--log-level", "warning",
                           # The peers have no rate limit; ours defaults to 100 msg/s per connection.
                           "--message-rate-limit", "1000000"], "/ws", ready_line=False, cwd=a.root)
    peers = [Server(p, [os.path.join(a.venv, "bin/python"), os.path.join(a.peers_dir, f"{p}.py")], "/ws", True,
                    cwd=a.root) for p in a.peers]
    return [ours, *peers]


def loadgen_args(scenario: str, size: dict, a: argparse.Namespace, ours: bool) -> list[str]:
    """The load generator's command line for one scenario (without --url/--label/--server-pid)."""
    opts = [f"--{k}={v}" for k, v in size.items()]
    if scenario in ("fanout", "fanout_redis1", "fanout_redis2"):
        return ["fanout", f"--name={scenario}", f"--window={a.window}", *opts]
    if scenario in PRODUCERS:
        transport, batch = PRODUCERS[scenario]
        return ["fanout", f"--name={scenario}", f"--window={a.window}", f"--batch={batch}",
                *(["--http"] if transport == "http" else []), *opts]
    if scenario == "fanout_rate10":
        return ["fanout", "--name=fanout_rate10", "--rate=10", *opts]
    if scenario == "rooms":
        # Our services accept arbitrary events only in "global"; workflow:<id> rooms take the catalogued
        # workflow.failed event. The peers accept any room/event, so every server gets the same frames.
        return ["fanout", "--name=rooms", "--workflow-rooms", f"--window={a.window}", *opts]
    if scenario in COMPRESSED:
        return ["fanout", f"--name={scenario}", f"--window={a.window}", "--text-pad",
                *(["--deflate"] if scenario in DEFLATE else []), *opts]
    if scenario in ("connect", "connect_deflate", "connect_deflate_dedicated"):
        return ["connect", f"--name={scenario}", "--source-addresses=4",
                *(["--deflate"] if scenario in DEFLATE else []), *opts]
    if scenario == "ping":
        return ["ping", *opts]
    if scenario == "idle100k":
        return ["connect", "--name=idle100k", "--source-addresses=16", "--concurrency=128", *opts]
    raise ValueError(scenario)


def idle_size(size: dict) -> tuple[dict, dict]:
    """Scales the 100k run to this process's descriptor limit (server and load generator each need one fd
    per connection); returns the size to run and notes for the result line."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = size["connections"]
    feasible = min(wanted, soft - 500)
    notes = {"requested_connections": wanted, "nofile_limit": soft}
    if feasible < wanted:
        notes["limited_by"] = (f"RLIMIT_NOFILE {soft} (hard {hard}); raising it needs CAP_SYS_RESOURCE, "
                               "so the run is scaled down and the 100k RSS projected")
    return {**size, "connections": feasible}, notes


def run_one(server: Server, scenario: str, a: argparse.Namespace, port: int, log_dir: str) -> dict:
    size = SIZES[scenario][1 if a.quick else 0]
    notes = {}
    if scenario == "idle100k":
        size, notes = idle_size(size)
    redis = None
    if scenario in DEFLATE:
        server = server.compressing(a.root)
    if scenario in REDIS_INSTANCES:
        redis = start_redis(port + 500, log_dir)
        broker = ("--broker", "redis", "--redis-url", f"redis://127.0.0.1:{port + 500}")
        instances = [server.start(port + i * 1000, log_dir, broker) for i in range(REDIS_INSTANCES[scenario])]
    else:
        instances = [server.start(port, log_dir, ("--compression", "dedicated") if scenario in DEDICATED else ())]
    procs = [p for p, _ in instances]
    timeout = 120 if a.quick else 600
    urls = ",".join(f"ws://127.0.0.1:{port + i * 1000}{server.path}" for i in range(len(procs)))
    argv = ["taskset", "-c", "1", os.path.join(a.bin_dir, "loadgen"),
            *loadgen_args(scenario, size, a, server.name == "ours"),
            f"--url={urls}", f"--label={server.name}", f"--server-pid={','.join(str(p.pid) for p in procs)}",
            f"--timeout={timeout}"]
    # CPU used by anything other than this server and load generator during the run: a noise gauge.
    busy_before, server_before = system_busy_s(), sum(proc_usage(p.pid).get("server_total_cpu_s", 0) for p in procs)
    redis_before = proc_usage(redis.pid).get("server_total_cpu_s", 0) if redis else 0
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 60)
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        result = json.loads(lines[-1]) if lines else {
            "scenario": scenario, "server": server.name, "error": f"loadgen exit {out.returncode}: {out.stderr[-500:]}"}
    except subprocess.TimeoutExpired:
        result = {"scenario": scenario, "server": server.name, "error": "loadgen timed out"}
    usages = [proc_usage(p.pid) for p in procs]
    result.update({k: round(sum(u.get(k, 0) for u in usages), 2) for k in usages[0]})
    if redis:
        # Redis is part of the clustered server's cost: its CPU during the run, per delivery, beside ours.
        redis_cpu = proc_usage(redis.pid).get("server_total_cpu_s", 0) - redis_before
        result["redis_cpu_s"] = round(redis_cpu, 2)
        if result.get("deliveries"):
            result["redis_cpu_us_per_delivery"] = round(redis_cpu * 1e6 / result["deliveries"], 4)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
           + result.get("server_total_cpu_s", 0) - server_before + (result.get("redis_cpu_s", 0)))
    other = system_busy_s() - busy_before - own
    result["other_cpu_pct"] = round(100 * max(other, 0) / max(time.monotonic() - started, 1e-6), 1)
    result.update(notes)
    if "rss_per_connection_kib" in result and scenario == "idle100k":
        per = result["rss_per_connection_kib"]
        result["projected_rss_mib_at_100k"] = round((result.get("server_rss_baseline_kib", 0) + per * 100000) / 1024, 1)
    crashed = [f"exit {p.returncode}; see {path}" for p, path in instances if p.poll() is not None]
    for p in [*procs, *([redis] if redis else [])]:
        stop(p)
    if crashed:
        result["server_crashed"] = "; ".join(crashed)
    return result


def start_redis(port: int, log_dir: str) -> subprocess.Popen:
    """A throw-away redis-server on CPU 0 beside the instances (no persistence), ready when it listens."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    out = open(os.path.join(log_dir, f"redis-{port}.log"), "w")
    proc = subprocess.Popen(["taskset", "-c", "0", binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out.close()
    CHILDREN.append(proc)
    deadline = time.monotonic() + 10
    while not Server.listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"redis-server did not listen on {port}")
        time.sleep(0.05)
    return proc


def metric(result: dict, path: str):
    value = result
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def ratios(results: list[dict], peers: list[str]) -> dict:
    """ours/peer for each compared metric (a ratio > 1 is better for ours unless lower_is_better)."""
    by: dict = {}
    for r in results:
        by.setdefault((r.get("scenario"), r.get("server")), []).append(r)

    def median(scenario: str, server: str, path: str):
        """Median over the quiet runs; over all runs when every one was noisy."""
        runs = by.get((scenario, server), [])
        runs = [r for r in runs if not r.get("noisy")] or runs
        values = sorted(v for v in (metric(r, path) for r in runs) if v is not None)
        return values[len(values) // 2] if values else None

    table = []
    for scenario, path, lower in RATIOS:
        ours = median(scenario, "ours", path)
        if ours is None:
            continue
        row = {"scenario": scenario, "metric": path, "lower_is_better": lower, "ours": ours}
        for peer in peers:
            theirs = median(scenario, peer, path)
            row[peer] = theirs
            row[f"ours/{peer}"] = round(ours / theirs, 3) if theirs else None
        table.append(row)
    # Per scenario and server: loss/reordering summed over every run, CPU as medians of the quiet runs.
    checks = []
    for (scenario, server), runs in by.items():
        row = {"scenario": scenario, "server": server, "runs": len(runs),
               "quiet_runs": sum(1 for r in runs if not r.get("noisy"))}
        for key in ("lost", "gaps", "reordered"):
            if any(key in r for r in runs):
                row[key] = sum(r.get(key, 0) for r in runs)
        for key in ("client_cpu_pct", "server_cpu_pct", "other_cpu_pct"):
            row[key] = median(scenario, server, key)
        errors = [r.get("error") or r.get("server_crashed") for r in runs if "error" in r or "server_crashed" in r]
        if errors:
            row["errors"] = errors
        checks.append(row)
    clean = all(not r.get("lost") and not r.get("gaps") and not r.get("reordered") and "error" not in r
                and "server_crashed" not in r for r in results)
    # The 100k-idle run has no peer to compare with: its own numbers against the < 1 GiB target.
    idle = (by.get(("idle100k", "ours")) or [None])[-1]
    ours_only = {k: idle.get(k) for k in ("opened", "rss_per_connection_kib", "server_rss_held_kib",
                                           "projected_rss_mib_at_100k", "connects_per_s", "limited_by")
                 if k in idle} if idle else None
    # Issue 7: what a delivery costs through Redis, against local mode (scenario "fanout", same sizes).
    cluster = []
    for scenario in ("fanout", "fanout_redis1", "fanout_redis2"):
        row = {"scenario": scenario, "instances": REDIS_INSTANCES.get(scenario, 1),
               "broker": "redis" if scenario in REDIS_INSTANCES else "local"}
        for path in ("deliveries_per_s", "server_cpu_us_per_delivery", "redis_cpu_us_per_delivery", "latency_ms.p99"):
            row[path] = median(scenario, "ours", path)
        cluster.append(row)
    local = cluster[0]
    for row in cluster[1:]:
        if local["server_cpu_us_per_delivery"] and row["server_cpu_us_per_delivery"] is not None:
            row["cpu_per_delivery_vs_local"] = round(
                (row["server_cpu_us_per_delivery"] + (row["redis_cpu_us_per_delivery"] or 0))
                / local["server_cpu_us_per_delivery"], 3)
    cluster = [r for r in cluster if r["deliveries_per_s"] is not None]
    producers = [{"scenario": name, "transport": transport, "batch": batch,
                  "events_per_s": median(name, "ours", "publishes_per_s"),
                  "deliveries_per_s": median(name, "ours", "deliveries_per_s"),
                  "latency_ms.p99": median(name, "ours", "latency_ms.p99")}
                 for name, (transport, batch) in PRODUCERS.items()]
    producers = [r for r in producers if r["events_per_s"] is not None]
    # Issue 18: what compression costs each server (deflate / plain at the same size); dedicated contexts' memory
    # is measured on idle connections (connect_deflate_dedicated), not from RSS after a run, which also holds
    # whatever the allocator kept of a million short-lived frames.
    compression = []
    for kib in (1, 16):
        plain, deflate = f"fanout_{kib}k", f"fanout_{kib}k_deflate"
        for server in ["ours", *peers]:
            row = {"payload_kib": kib, "server": server}
            for path in ("deliveries_per_s", "server_cpu_us_per_delivery"):
                on, off = median(deflate, server, path), median(plain, server, path)
                row[path] = on
                row[f"{path}_on/off"] = round(on / off, 3) if on and off else None
            if row["deliveries_per_s"] is not None:
                compression.append(row)
    dedicated = {"deliveries_per_s": median("fanout_1k_deflate_dedicated", "ours", "deliveries_per_s"),
                 "server_cpu_us_per_delivery": median("fanout_1k_deflate_dedicated", "ours", "server_cpu_us_per_delivery")}
    idle_deflate = median("connect_deflate", "ours", "rss_per_connection_kib")
    compression_summary = ({"fanout": compression, "dedicated_1k": dedicated if dedicated["deliveries_per_s"] else None,
                            "idle_rss_per_connection_kib_deflate_shared": idle_deflate,
                            "idle_rss_per_connection_kib_deflate_dedicated":
                                median("connect_deflate_dedicated", "ours", "rss_per_connection_kib")}
                           if compression or idle_deflate else None)
    return {"ratios": table, "idle100k_ours": ours_only, "redis_vs_local": cluster if len(cluster) > 1 else None,
            "producers": producers or None, "compression": compression_summary,
            "correctness_and_cpu": checks, "zero_loss_and_reordering": clean}


def markdown(summary: dict, peers: list[str]) -> str:
    head = "| scenario | metric | ours | " + " | ".join(f"{p} | ours/{p}" for p in peers) + " |"
    rows = [head, "|" + "---|" * (3 + 2 * len(peers))]
    for r in summary["ratios"]:
        better = "lower" if r["lower_is_better"] else "higher"
        rows.append(f"| {r['scenario']} | {r['metric']} ({better} is better) | {r['ours']} | "
                    + " | ".join(f"{r.get(p)} | {r.get(f'ours/{p}')}" for p in peers) + " |")
    if summary.get("idle100k_ours"):
        rows += ["", "idle100k (ours only): " + ", ".join(f"{k}={v}" for k, v in summary["idle100k_ours"].items())]
    if summary.get("producers"):
        rows += ["", "| producer | transport | batch | events/s | deliveries/s | p99 ms |", "|---|---|---|---|---|---|"]
        for r in summary["producers"]:
            rows.append(f"| {r['scenario']} | {r['transport']} | {r['batch']} | {r['events_per_s']} | "
                        f"{r['deliveries_per_s']} | {r['latency_ms.p99']} |")
    if summary.get("redis_vs_local"):
        rows += ["", "| scenario | instances | broker | deliveries/s | server CPU µs/delivery | redis CPU µs/delivery "
                 "| (server + redis) / local | p99 ms |", "|---|---|---|---|---|---|---|---|"]
        for r in summary["redis_vs_local"]:
            rows.append(f"| {r['scenario']} | {r['instances']} | {r['broker']} | {r['deliveries_per_s']} | "
                        f"{r['server_cpu_us_per_delivery']} | {r['redis_cpu_us_per_delivery'] or '-'} | "
                        f"{r.get('cpu_per_delivery_vs_local', '-')} | {r['latency_ms.p99']} |")
    if summary.get("compression"):
        c = summary["compression"]
        rows += ["", "| payload | server | deflate deliveries/s | on/off | deflate server CPU µs/delivery | on/off |",
                 "|---|---|---|---|---|---|"]
        for r in c["fanout"]:
            rows.append(f"| {r['payload_kib']} KiB | {r['server']} | {r['deliveries_per_s']} | "
                        f"{r['deliveries_per_s_on/off']} | {r['server_cpu_us_per_delivery']} | "
                        f"{r['server_cpu_us_per_delivery_on/off']} |")
        if c.get("dedicated_1k"):
            rows += ["", "ours, 1 KiB, compression dedicated: " + ", ".join(f"{k}={v}" for k, v in c["dedicated_1k"].items())]
        for mode in ("shared", "dedicated"):
            if c.get(f"idle_rss_per_connection_kib_deflate_{mode}") is not None:
                rows += [f"ours, idle connections with deflate negotiated ({mode}): "
                         f"{c[f'idle_rss_per_connection_kib_deflate_{mode}']} KiB each"]
    rows += ["", "| scenario | server | runs (quiet) | lost | gaps | reordered | client CPU % | server CPU % | other CPU % |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in summary["correctness_and_cpu"]:
        rows.append(f"| {c['scenario']} | {c['server']} | {c['runs']} ({c['quiet_runs']}) | {c.get('lost', '-')} | "
                    f"{c.get('gaps', '-')} | {c.get('reordered', '-')} | {c['client_cpu_pct']} | {c['server_cpu_pct']} | "
                    f"{c['other_cpu_pct']} |" + (f" errors: {c['errors']}" if c.get("errors") else ""))
    return "\n".join(rows) + "\n"


def summarize(a: argparse.Namespace) -> int:
    """Merges the run lines of earlier result files (e.g. a re-run of the noisy scenarios) into one table."""
    results = []
    for path in a.summarize:
        with open(path) as f:
            results += [r for r in map(json.loads, filter(str.strip, f)) if "scenario" in r]
    peers = a.peers or sorted({r["server"] for r in results} - {"ours"})
    summary = ratios(results, peers)
    print(json.dumps(summary, separators=(",", ":")))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(markdown(summary, peers))
    log(markdown(summary, peers))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p.add_argument("--peers-dir", default="")
    p.add_argument("--venv", default="")
    p.add_argument("--summarize", nargs="+", metavar="JSONL",
                   help="run nothing: recompute the ratios from result files of earlier runs (--out)")
    p.add_argument("--peers", default="", help="comma-separated peer names; 'none' for our server only")
    p.add_argument("--bin-dir", help="where mahavishnu and loadgen are (default: ROOT/.build/release)")
    p.add_argument("--quick", action="store_true", help="small sizes, CI")
    p.add_argument("--only", default="", help="comma-separated scenarios: " + ",".join(ORDER))
    p.add_argument("--window", type=int, default=32, help="unacknowledged publishes in flight (fanout, rooms)")
    p.add_argument("--repeat", type=int, default=1, help="runs per server and scenario; ratios use the median")
    p.add_argument("--quiet-wait", type=float, default=None,
                   help="seconds to wait, before each run, for other CPU load to drop (default: 60, quick: 0)")
    p.add_argument("--max-noise", type=float, default=30.0,
                   help="a run during which other processes used more than this %% of a core is noisy")
    p.add_argument("--retries", type=int, default=None,
                   help="re-runs of a noisy run (default: 2, quick: 0); ratios prefer quiet runs")
    p.add_argument("--out", help="also append the JSON lines to this file")
    p.add_argument("--markdown", help="write the ratio table as Markdown to this file")
    p.add_argument("--skip-build", action="store_true")  # handled by scripts/bench
    p.add_argument("--skip-setup", action="store_true")  # handled by scripts/bench
    a = p.parse_args()
    a.peers = [x for x in a.peers.split(",") if x and x != "none"]
    a.bin_dir = a.bin_dir or os.path.join(a.root, ".build", "release")
    if a.summarize:
        return summarize(a)
    scenarios = [s for s in ORDER if (not a.only or s in a.only.split(",")) and SIZES[s][1 if a.quick else 0]]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop_all)
    log_dir = os.path.join(a.root, ".run", "bench", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(log_dir, exist_ok=True)
    out = open(a.out, "a") if a.out else None
    results = []
    port = 19400
    try:
        quiet_wait = a.quiet_wait if a.quiet_wait is not None else (0 if a.quick else 60)
        runs = [(scenario, server, n) for scenario in scenarios for n in range(max(1, a.repeat))
                for server in servers(a) if scenario not in OURS_ONLY or server.name == "ours"]
        retries = a.retries if a.retries is not None else (0 if a.quick else 2)
        for scenario, server, n in runs:
            for attempt in range(retries + 1):
                port += 1  # a fresh port per run: no TIME_WAIT or lingering sockets from the previous one
                while Server.listening(port) and port < 19999:
                    port += 1  # taken by someone else's process
                busy = wait_for_quiet(quiet_wait) if quiet_wait > 0 else None
                log(f"bench: {scenario} against {server.name} (port {port}, run {n + 1}.{attempt}, machine busy {busy}%)")
                try:
                    result = run_one(server, scenario, a, port, log_dir)
                except RuntimeError as error:
                    stop_all()  # whatever of this run did start (an instance, redis-server)
                    result = {"scenario": scenario, "server": server.name, "error": str(error)}
                result["run"] = n + 1
                result["attempt"] = attempt
                if busy is not None:
                    result["busy_pct_before"] = busy
                # Other jobs on this 2-core machine (builds, tests) steal CPU from the pinned processes.
                result["noisy"] = result.get("other_cpu_pct", 0) > a.max_noise
                line = json.dumps(result, separators=(",", ":"))
                print(line, flush=True)
                if out:
                    out.write(line + "\n")
                results.append(result)
                if not result["noisy"]:
                    break
        summary = ratios(results, a.peers)
        print(json.dumps(summary, separators=(",", ":")), flush=True)
        if out:
            out.write(json.dumps(summary) + "\n")
        if a.markdown:
            with open(a.markdown, "w") as f:
                f.write(markdown(summary, a.peers))
        log(markdown(summary, a.peers))
        return 0 if all("error" not in r for r in results) else 1
    finally:
        stop_all()
        if out:
            out.close()


if __name__ == "__main__":
    sys.exit(main())
