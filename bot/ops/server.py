"""`incidentbot serve`: check the setup, migrate, check the token with Slack, then serve until SIGTERM."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import time
from datetime import timedelta
from types import FrameType
from typing import Any

from bot.app import IncidentBot, create_app
from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.ops.startup import (
    PERMANENT_TOKEN_ERRORS,
    StartupError,
    check_bot_token,
    log_auth_check,
    refuse_or_run,
    require_credentials,
)

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# How often the main thread looks at the stop flag; the signal handler itself only sets the flag.
STOP_POLL_SECONDS = 0.1
SWITCH_INTERVAL_SECONDS = 0.001


class StopRequest:
    """Remember the first SIGTERM or SIGINT; a second one gets the previous (default) handling at once."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def install(self) -> StopRequest:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        # A handler may run in the middle of any code on the main thread, so it takes no locks and logs
        # nothing; restoring the previous handlers lets a second signal stop a shutdown that hangs.
        self.received = signal.Signals(signum)
        self.restore()

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def wait(self) -> signal.Signals:
        """Block the main thread until a stop signal arrives."""
        while self.received is None:
            time.sleep(STOP_POLL_SECONDS)
        return self.received


def serve(settings: Settings, config: IncidentConfig) -> int:
    """Run until SIGTERM or SIGINT; returns the exit code (2 when the setup is refused, with the reason)."""
    return refuse_or_run(lambda: _serve(settings, config))


def migrate_on_start(settings: Settings) -> None:
    """Run the migrations unless INCIDENTBOT_MIGRATE_ON_START=false (an advisory lock serialises replicas)."""
    if settings.incidentbot_migrate_on_start:
        from bot.ops.migrate import upgrade

        upgrade(settings.database_url)


def _serve(settings: Settings, config: IncidentConfig) -> int:
    require_credentials(settings)
    migrate_on_start(settings)
    log_auth_check(check_bot_token(settings))
    if not settings.incidentbot_run_worker and settings.is_sqlite:
        log.warning("INCIDENTBOT_RUN_WORKER=false is ignored on SQLite: serve runs the Slack jobs itself")
    elif not settings.serve_runs_jobs:
        log.info("not running Slack jobs here: `incidentbot work` processes run them")
    stop = StopRequest().install()
    try:
        bot = create_app(
            settings,
            config,
            lease=timedelta(seconds=settings.incidentbot_job_lease_seconds),
            tick_seconds=settings.incidentbot_tick_seconds,
            runs_jobs=settings.serve_runs_jobs,
        )
        try:
            bot.warm_up()
            bot.start_ticker()
            run = _run_socket_mode if settings.socket_mode else _run_http
            received = run(bot, settings, stop)
        finally:
            # Work in hand gets the grace period; what is left is released for the next process.
            bot.close(grace=settings.incidentbot_shutdown_grace_seconds)
    finally:
        stop.restore()
    log.info("stopped after %s", received.name)
    exit_if_work_is_stuck()
    return 0


def tune_for_acks() -> None:
    """Set the interpreter for many short requests that each wait on the database, once start-up is done.

    A full collection scanned everything start-up built and paused every ack in flight for about 0.2 s:
    those objects are frozen out of it. A thread back from a database round trip (the group commit, the
    HTTP loop) waited up to the 5 ms switch interval for the GIL each time; at 1 ms a burst's commit and
    acks queue far less behind the CPU work of the requests around them.
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


def exit_if_work_is_stuck() -> None:
    """Exit now if a Slack call outlived the grace period: its job was released, so nothing waits on it."""
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if stuck:
        log.warning("exiting with %d Slack call(s) still in flight; their jobs were released", len(stuck))
        logging.shutdown()
        os._exit(0)


def _run_http(bot: IncidentBot, settings: Settings, stop: StopRequest) -> signal.Signals:
    """Serve HTTP under waitress (a production server with a thread pool) until a stop signal."""
    from bot.ops.local import LocalServer

    try:
        server = LocalServer(
            bot.wsgi, host="0.0.0.0", port=settings.port, threads=settings.incidentbot_http_threads
        )
    except OSError as exc:
        raise StartupError(
            f"cannot listen on PORT {settings.port}: {exc.strerror or exc}; set PORT to a free port"
        ) from None
    tune_for_acks()
    with server:
        log.info("listening on port %s", settings.port)
        received = stop.wait()
        log.info("%s received: no longer taking requests; finishing what is held", received.name)
    # Leaving the block stopped waitress: requests in flight were answered, new connections refused.
    return received


def _run_socket_mode(bot: IncidentBot, settings: Settings, stop: StopRequest) -> signal.Signals:
    """Take requests over Socket Mode until a stop signal, then close the connection."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    assert settings.slack_app_token is not None  # settings.socket_mode says so
    handler = SocketModeHandler(bot.bolt, settings.slack_app_token.get_secret_value())
    try:
        handler.connect()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error not in PERMANENT_TOKEN_ERRORS:
            raise
        raise StartupError(
            f"Slack refused SLACK_APP_TOKEN with {error}: create an app-level token with the "
            "connections:write scope on your app's Basic Information page and put it in SLACK_APP_TOKEN."
        ) from None
    try:
        log.info("connected in Socket Mode")
        received = stop.wait()
        log.info("%s received: no longer taking requests; finishing what is held", received.name)
    finally:
        handler.close()
    return received
