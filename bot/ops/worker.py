"""The job-running half of the bot: run the Slack jobs and the periodic tick, woken at once by NOTIFY.

`incidentbot serve` runs one inside its own process (always on SQLite; on PostgreSQL unless
INCIDENTBOT_RUN_WORKER=false), and `incidentbot work` runs one on its own, serving no Slack requests.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.ops.config import IncidentConfig
from bot.ops.scheduler import start_ticker
from bot.ops.settings import Settings
from bot.ops.startup import StartupError, check_bot_token, log_auth_check, refuse_or_run, require_bot_token
from bot.pipeline.runtime import Runtime
from store.db import ping
from store.notify import JobListener

log = logging.getLogger(__name__)

# The shortest pause between claims while something owed is not claimable yet (a lease about to lapse).
MIN_WAIT_SECONDS = 0.05


class JobWorker:
    """Claim owed jobs when woken (a NOTIFY, a job ending, the tick) as far as free slots allow, and run them.

    Claiming only what it has slots for lets concurrent workers share a burst instead of the first one
    to wake holding it all; a job ending wakes it to claim the next one.
    """

    def __init__(self, runtime: Runtime, tick_seconds: float, database_url: str) -> None:
        self.runtime = runtime
        self.tick_seconds = tick_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._saturated = False
        postgres = database_url.startswith("postgresql")
        self.listener = JobListener(database_url, self._wake.set) if postgres else None
        self._scheduler: BackgroundScheduler | None = None
        self._claimer: threading.Thread | None = None

    def start(self) -> None:
        """Renew leases, tick, claim on every wake-up and listen for recorded jobs."""
        if self._scheduler is not None:
            return
        self.runtime.job_ended = self._job_ended
        self.runtime.runner.start_heartbeat()
        self._scheduler = start_ticker(self._tick, self.tick_seconds)
        self._claimer = threading.Thread(target=self._claim_loop, name="incidentbot-claim", daemon=True)
        self._claimer.start()
        if self.listener is not None:
            self.listener.start()

    def stop(self) -> None:
        """Take no more jobs; what is held is finished or released by the runtime's close."""
        self._stop.set()
        self._wake.set()
        if self.listener is not None:
            self.listener.stop()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if self._claimer is not None:
            self._claimer.join(timeout=5)
            self._claimer = None

    def _job_ended(self) -> None:
        # Only a worker that left jobs unclaimed for want of slots looks again: idle ones stay quiet.
        if self._saturated:
            self._wake.set()

    def _claim_loop(self) -> None:
        wait: float | None = None
        while not self._stop.is_set():
            # Besides NOTIFY and ending jobs, wake when a retry falls due or a crashed holder's lease runs
            # out, so neither waits for the tick.
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.runtime.claim_owed()
            except RuntimeError:  # the pool is shutting down: the rest is released on close
                return
            except Exception as exc:  # the database is away: the next wake-up or tick tries again
                log.warning("could not claim jobs (%s)", type(exc).__name__)
            self._saturated = not self.runtime.has_free_slots()
            # A full worker waits for one of its jobs to end; the others take what it cannot.
            wait = None if self._saturated else self._until_next()

    def _until_next(self) -> float | None:
        """Seconds until the next owed job becomes claimable, at most a tick; None: nothing owed."""
        try:
            seconds = self.runtime.runner.seconds_to_next()
        except Exception:  # the database is away: the tick carries on
            return self.tick_seconds
        if seconds is None:
            return None
        return min(max(seconds, MIN_WAIT_SECONDS), self.tick_seconds)

    def _tick(self) -> None:
        """The runtime's tick (reminders, owed jobs, pruning), noting whether it filled every slot."""
        self.runtime.tick()
        self._saturated = not self.runtime.has_free_slots()


def work(settings: Settings, config: IncidentConfig) -> int:
    """`incidentbot work`: run jobs and the tick until SIGTERM; the exit code (2: refused to start)."""
    return refuse_or_run(lambda: _work(settings, config))


def _yield_cpu_to_acks(nice: int) -> None:
    """Slack work can wait a moment; an acknowledgement cannot: let web processes have the CPU first."""
    if nice <= 0 or not hasattr(os, "nice"):
        return
    try:
        os.nice(nice)
    except OSError as exc:  # a container may forbid it: run at the usual priority rather than not at all
        log.warning("could not lower the worker's CPU priority: %s", exc.strerror or exc)
    else:
        log.info("worker CPU priority lowered by %d (INCIDENTBOT_WORKER_NICE)", nice)


def _work(settings: Settings, config: IncidentConfig) -> int:
    from bot.app import build_runtime, close_runtime
    from bot.ops.server import StopRequest, exit_if_work_is_stuck, migrate_on_start

    require_bot_token(settings)
    _yield_cpu_to_acks(settings.incidentbot_worker_nice)
    migrate_on_start(settings)
    log_auth_check(check_bot_token(settings))
    stop = StopRequest().install()
    try:
        runtime, engine = build_runtime(
            settings, config, lease=timedelta(seconds=settings.incidentbot_job_lease_seconds)
        )
        worker = JobWorker(runtime, settings.incidentbot_tick_seconds, settings.database_url)
        health = _health_server(settings.incidentbot_worker_health_port, engine)
        try:
            worker.start()
            log.info("worker running")
            received = stop.wait()
            log.info("%s received: taking no more jobs; finishing or releasing what is held", received.name)
        finally:
            worker.stop()
            if health is not None:
                health.shutdown()
                health.server_close()
            close_runtime(runtime, engine, settings.incidentbot_shutdown_grace_seconds)
    finally:
        stop.restore()
    log.info("stopped after %s", received.name)
    exit_if_work_is_stuck()
    return 0


class _Health(BaseHTTPRequestHandler):
    """GET /healthz: 200 while the database answers, 503 otherwise; nothing else is served."""

    engine: Engine

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path != "/healthz":
            self.send_error(404)
            return
        ok = ping(self.engine)
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok\n" if ok else b"database unavailable\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        """Health checks every few seconds are not worth a log line each."""


def _health_server(port: int | None, engine: Engine) -> ThreadingHTTPServer | None:
    """A tiny health endpoint for orchestrators, only when INCIDENTBOT_WORKER_HEALTH_PORT is set."""
    if port is None:
        return None
    handler = type("Health", (_Health,), {"engine": engine})
    try:
        server = ThreadingHTTPServer(("0.0.0.0", port), handler)
    except OSError as exc:
        raise StartupError(
            f"cannot listen on INCIDENTBOT_WORKER_HEALTH_PORT {port}: {exc.strerror or exc}"
        ) from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="incidentbot-health", daemon=True).start()
    return server
