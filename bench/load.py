"""Load generators: wrk (bench/bodies.lua) or a Python one (processes x threads, one keep-alive
connection each); both report requests, latency percentiles and errors as a ``Load``."""

import http.client
import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bodies import PATH
from bench.processes import REPO

ACTION = "VerifyTOTPCode"


def headers(action: str = ACTION) -> dict[str, str]:
    """A SOAP 1.1 call's headers, its SOAPAction naming ``action`` (the body's operation)."""
    return {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"http://cp.gov.tw/gsp2/{action}"',
    }


def post(
    port: int, body: bytes, timeout: float = 2.0, path: str = PATH, action: str = ACTION
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body, headers(action))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int
    replayed: int  # requests sent after their slice of bodies was used up

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_threads(connections: int) -> int:
    """The threads wrk runs with (one a CPU, at most one a connection): its senders."""
    return max(1, min(connections, os.cpu_count() or 1))


def wrk_load(
    port: int,
    bodies: list[bytes],
    connections: int,
    duration: float,
    workdir: Path,
    url_path: str = PATH,
    action: str = ACTION,
) -> Load:
    path = workdir / "bodies.txt"
    path.write_bytes(b"\n".join(bodies) + b"\n")
    threads = wrk_threads(connections)
    args = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(REPO / "bench" / "bodies.lua"),
        f"http://127.0.0.1:{port}{url_path}",
        "--",
        str(path),
        str(threads),
        action,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration + 120)
    match = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.M)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    r = json.loads(match.group(1))
    return Load(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        socket_errors=r["connect"] + r["read"] + r["write"] + r["timeout"],
        non_2xx=r["status"],
        replayed=r["replayed"],
    )


def _py_connection(
    port: int,
    bodies: list[bytes],
    cycle: bool,
    start_at: float,
    end_at: float,
    out: dict,
    target: tuple[str, str],
) -> None:
    url_path, action = target
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies, errors, non_2xx, replayed, i = [], 0, 0, 0, 0
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < end_at:
        if i == len(bodies):
            if not cycle or not bodies:
                break
            i, replayed = 0, replayed + len(bodies)
        body, i = bodies[i], i + 1
        t0 = time.perf_counter()
        try:
            conn.request("POST", url_path, body, headers(action))
            response = conn.getresponse()
            response.read()
            if not 200 <= response.status < 300:
                non_2xx += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            continue
        latencies.append(time.perf_counter() - t0)
    conn.close()
    out["latencies"] = latencies
    out["errors"], out["non_2xx"], out["replayed"] = errors, non_2xx, replayed
    out["ended"] = time.time()


def _py_process(port, slices, cycle, start_at, end_at, target):
    outs = [{} for _ in slices]
    threads = [
        threading.Thread(target=_py_connection, args=(port, s, cycle, start_at, end_at, o, target))
        for s, o in zip(slices, outs, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outs


def python_load(
    port: int,
    bodies: list[bytes],
    connections: int,
    duration: float,
    cycle: bool,
    url_path: str = PATH,
    action: str = ACTION,
) -> Load:
    """Processes (up to the core count x 2) x threads, one keep-alive connection per thread;
    connection j sends bodies j, j+C, j+2C, ...; stops at ``duration`` or, when not ``cycle``,
    when its bodies are used up."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    processes = max(1, min(connections, 2 * (os.cpu_count() or 1)))
    slices = [bodies[j::connections] for j in range(connections)]
    per_process = [slices[p::processes] for p in range(processes)]
    start_at = time.time() + 0.5
    end_at = start_at + duration
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        results = [
            r
            for part in pool.map(
                _py_process,
                [port] * processes,
                per_process,
                [cycle] * processes,
                [start_at] * processes,
                [end_at] * processes,
                [(url_path, action)] * processes,
            )
            for r in part
        ]
    latencies = sorted(x for r in results for x in r["latencies"])
    ended = max(r["ended"] for r in results)

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return Load(
        requests=len(latencies),
        seconds=max(0.001, ended - start_at),
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        socket_errors=sum(r["errors"] for r in results),
        non_2xx=sum(r["non_2xx"] for r in results),
        replayed=sum(r["replayed"] for r in results),
    )
