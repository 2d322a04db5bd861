"""The load generator in a process of its own, so the emulator's work never slows the clients it times.

`burst` hands pre-signed requests to `python -m benchmarks.load` on stdin; the child releases one
thread per client together (a barrier), each sends its share back to back on fresh connections, and
the child prints every exchange's time and status. The floor and the bot are hit by the same code.
"""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 10.0


@dataclass(frozen=True)
class Burst:
    """What one burst measured: seconds per exchange, and how many were not answered 200."""

    times: list[float]
    failures: int


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30.0) -> tuple[int, float]:
    """POST once on a fresh loopback connection (as Slack does); return the status and seconds taken."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request("POST", parts.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def burst(url: str, clients: list[list[tuple[bytes, dict[str, str]]]]) -> Burst:
    """Send each client's requests from the child process, all clients released together."""
    job = {
        "url": url,
        "clients": [
            [[base64.b64encode(body).decode(), headers] for body, headers in mine] for mine in clients
        ],
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.load"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    return Burst(times=result["times"], failures=result["failures"])


def child_main() -> None:
    """Child side: read the job, release the clients together, print the times as JSON."""
    job = json.loads(sys.stdin.read())
    url: str = job["url"]
    clients = [[(base64.b64decode(body), headers) for body, headers in mine] for mine in job["clients"]]
    times: list[float] = []
    failures = 0
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients))

    def client(mine: list[tuple[bytes, dict[str, str]]]) -> None:
        nonlocal failures
        barrier.wait()
        for body, headers in mine:
            try:
                status, elapsed = post(url, body, headers, timeout=TIMEOUT)
            except OSError:
                status, elapsed = 0, TIMEOUT
            with lock:
                times.append(elapsed)
                failures += status != 200

    threads = [threading.Thread(target=client, args=(mine,)) for mine in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    print(json.dumps({"times": times, "failures": failures}), flush=True)


if __name__ == "__main__":
    child_main()
