"""`incidentbot serve`: check the setup, migrate, check the token with Slack, then serve."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

from bot.app import create_app
from bot.config import IncidentConfig
from bot.settings import Settings
from bot.startup import StartupError, check_bot_token, log_auth_check, require_credentials

log = logging.getLogger(__name__)


def serve(settings: Settings, config: IncidentConfig) -> int:
    """Run until interrupted; returns the exit code (2 when the setup is refused, with the reason)."""
    try:
        return _serve(settings, config)
    except StartupError as exc:
        print(f"incidentbot: cannot start: {exc}", file=sys.stderr)
        return 2


def _serve(settings: Settings, config: IncidentConfig) -> int:
    require_credentials(settings)
    if settings.incidentbot_migrate_on_start:
        from bot.migrate import upgrade

        upgrade(settings.database_url)
    log_auth_check(check_bot_token(settings))
    bot = create_app(
        settings,
        config,
        lease=timedelta(seconds=settings.incidentbot_job_lease_seconds),
        tick_seconds=settings.incidentbot_tick_seconds,
    )
    bot.warm_up()
    bot.start_ticker()
    try:
        if settings.socket_mode and settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("starting in Socket Mode")
            SocketModeHandler(bot.bolt, settings.slack_app_token.get_secret_value()).start()
        else:
            import waitress

            log.info("listening on port %s", settings.port)
            # waitress: a production WSGI server with a thread pool; Bolt's dev server is single-threaded.
            waitress.serve(bot.wsgi, host="0.0.0.0", port=settings.port, threads=16, ident="incidentbot")
    finally:
        bot.close()
    return 0
