"""A PostgreSQL cluster of the test's own on a free port, so a test may stop and start it at will."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.scenario.test_serve_process import free_port


def _pg_bin() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    found = candidates[-1] if candidates else shutil.which("initdb")
    return os.path.dirname(found) if found else None


class Cluster:
    """initdb + pg_ctl, run as the postgres user when we are root (PostgreSQL refuses to run as root)."""

    def __init__(self, bin_dir: str, root: str, port: int) -> None:
        self.bin_dir, self.root, self.port = bin_dir, root, port
        self.data = os.path.join(root, "data")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        command = [os.path.join(self.bin_dir, args[0]), *args[1:]]
        if os.geteuid() == 0:
            line = f"cd {shlex.quote(self.root)} && {shlex.join(command)}"
            command = ["su", "-s", "/bin/bash", "postgres", "-c", line]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Start a fresh cluster (skip when PostgreSQL is not installed); stop and delete it afterwards."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("INCIDENTBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail("INCIDENTBOT_REQUIRE_POSTGRES=1 but initdb is not installed")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    root = tempfile.mkdtemp(prefix="incidentbot-pg-down-")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o700)
    cluster = Cluster(bin_dir, root, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if os.path.exists(os.path.join(cluster.data, "postmaster.pid")):
            subprocess.run(
                [
                    "su",
                    "-s",
                    "/bin/bash",
                    "postgres",
                    "-c",
                    f"{bin_dir}/pg_ctl -D {cluster.data} -m immediate stop",
                ]
                if os.geteuid() == 0
                else [f"{bin_dir}/pg_ctl", "-D", cluster.data, "-m", "immediate", "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(root, ignore_errors=True)
