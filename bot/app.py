"""The composition root: build the database, Slack client, presenter, runner and Bolt app, and wire them."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import configure_mappers

from bot.listeners import COMMANDS, register_listeners
from bot.listeners.direct import DirectCommands
from bot.listeners.inputs import clean
from bot.ops.config import IncidentConfig
from bot.ops.scheduler import start_ticker
from bot.ops.settings import Settings
from bot.ops.startup import bolt_signing_secret
from bot.ops.worker import JobWorker
from bot.pagers.router import Pagers
from bot.pipeline.chart_work import ChartWork
from bot.pipeline.home import HomeTab
from bot.pipeline.job_watch import ListenerFactory
from bot.pipeline.runtime import Runtime
from bot.publishers.choose import make_publisher
from bot.render.postmortem import PostmortemDrafts
from bot.render.presenter import SlackPresenter, TemplateRenderer
from bot.slack.chat import SlackChat
from bot.slack.client import make_web_client
from bot.slack.http import IncidentBotWsgi
from bot.trackers.choose import make_tracker
from bot.webhooks.routes import webhook_routes
from commands.capture import capture_plans
from commands.chart_shares import Reports
from commands.holdings import JobHoldings
from commands.job_runner import JobRunner
from commands.pager import Pager
from commands.ports import Clock, SystemClock
from commands.postmortem_owner import overdue_postmortems
from commands.postmortem_steps import postmortem_plans
from commands.postmortem_versions import notify_owner
from commands.publish import publish_plans, queue_publish
from commands.registry import JOB_PLANS
from commands.reminders import REMINDER_PLANS
from commands.tracker_sync import tracker_plans
from store.chart_shares import SqlChartShares
from store.db import make_engine, make_session_factory, ping
from store.insights import SqlInsights
from store.notify import DONE_CHANNEL, JobListener
from store.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)

# Threads committing commands before their ack; commits are short, and updates to one incident queue
# on its row lock anyway.
RECORD_THREADS = 4


@dataclass
class IncidentBot:
    """A running bot's parts, so servers, the demo and tests can start and stop it the same way."""

    bolt: App
    runtime: Runtime
    wsgi: IncidentBotWsgi
    engine: Engine
    tick_seconds: float
    # Runs the Slack jobs and the tick in this process; None on a web replica beside worker processes.
    worker: JobWorker | None = None
    scheduler: BackgroundScheduler | None = field(default=None)

    def warm_up(self) -> None:
        """Do first-use work now rather than in the first incident's acknowledgement after a deploy."""
        configure_mappers()
        ping(self.engine)
        self.runtime.presenter.renderer.compile_all()

    def start_ticker(self) -> None:
        """Start what a serving process runs besides requests: the worker, or only the admin-cache refresh."""
        if self.worker is not None:
            self.worker.start()
        elif self.scheduler is None:
            self.scheduler = start_ticker(self.runtime.keep_warm, self.tick_seconds)

    def close(self, grace: float | None = None) -> None:
        """Stop the tick, then finish the work in hand (within `grace` seconds, releasing what is left)."""
        if self.worker is not None:
            self.worker.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        close_runtime(self.runtime, self.engine, grace)


def close_runtime(runtime: Runtime, engine: Engine, grace: float | None) -> None:
    """Finish the work in hand (within `grace` seconds, releasing what is left), then drop the pool."""
    runtime.close(grace)
    runtime.runner.close(wait=grace is None)
    engine.dispose()


class _WithoutTokenNotice(logging.Filter):
    """Drop Bolt's startup notice that SLACK_BOT_TOKEN is unused: our client carries the token on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    bolt_logger = logging.getLogger("incidentbot.bolt")
    if not any(isinstance(f, _WithoutTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_WithoutTokenNotice())
    return bolt_logger


def process_identity() -> str:
    """A name for this process, unique among replicas, under which it holds its Slack jobs."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(4)}"


def chart_work(
    engine: Engine, chat: SlackChat, clock: Clock, config: IncidentConfig, uow: SqlUnitOfWorkFactory
) -> ChartWork:
    """`/incident stats` and the digest: the SQL figures and the chart shares, on the runtime's engine."""
    sessions = make_session_factory(engine)
    reports = Reports(SqlInsights(sessions), SqlChartShares(sessions))
    return ChartWork(
        reports, chat, clock, config, lambda: overdue_postmortems(uow=uow, now=clock.now(), settings=config)
    )


def finished_job_listener(database_url: str, *, runs_jobs: bool) -> ListenerFactory | None:
    """A web replica beside workers on PostgreSQL hears each finished job instead of reading on a timer."""
    if runs_jobs or not database_url.startswith("postgresql"):
        return None
    return lambda wake, heard: JobListener(database_url, wake, channel=DONE_CHANNEL, heard=heard)


def build_runtime(
    settings: Settings,
    config: IncidentConfig,
    *,
    clock: Clock | None = None,
    client: WebClient | None = None,
    lease: timedelta = timedelta(seconds=5),
    workers: int = 16,
    runs_jobs: bool = True,
    pager: Pager | None = None,
) -> tuple[Runtime, Engine]:
    """Wire the database, Slack client, presenter and job runner: what web and worker processes share.

    With `runs_jobs` false (a web replica beside worker processes), jobs are recorded for the workers.
    """
    clock = clock or SystemClock()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    client = client or make_web_client(
        token, settings.slack_api_url, timeout=settings.incidentbot_slack_timeout_seconds
    )
    engine = make_engine(settings.database_url)
    tracker = make_tracker(settings, config)  # before the engine: missing credentials stop the start-up
    publisher = make_publisher(settings, config)
    holdings = JobHoldings(process_identity())
    uow = SqlUnitOfWorkFactory(make_session_factory(engine), holdings, hand_off=not runs_jobs)
    chat = SlackChat(client)
    presenter = SlackPresenter(
        TemplateRenderer(zone=config.zone, clock=clock, override_dir=config.templates_dir)
    )
    drafts = PostmortemDrafts.for_config(uow, config, clock)
    runner = JobRunner(
        uow=uow,
        chat=chat,
        presenter=presenter,
        settings=config,
        clock=clock,
        plans={
            **JOB_PLANS,
            **REMINDER_PLANS,
            **postmortem_plans(
                drafts,
                after=(
                    ("notify_owner", notify_owner(drafts)),
                    ("queue_publish", queue_publish(uow, clock, config)),
                ),
            ),
            **publish_plans(uow, clock, config),
            **capture_plans(uow, clock, clean),
            **tracker_plans(uow, clock, config),
        },
        lease=lease,
        holdings=holdings,
        pager=pager or Pagers.from_settings(settings),
        tracker=tracker,
        publisher=publisher,
    )
    runtime = Runtime(
        uow=uow,
        chat=chat,
        presenter=presenter,
        clock=clock,
        config=config,
        runner=runner,
        executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="incidentbot"),
        records=ThreadPoolExecutor(max_workers=RECORD_THREADS, thread_name_prefix="incidentbot-commit"),
        lease=lease,
        record_budget=settings.incidentbot_record_budget_seconds,
        runs_jobs=runs_jobs,
        job_slots=workers,
        listen_for_finished_jobs=finished_job_listener(settings.database_url, runs_jobs=runs_jobs),
    )
    runner.kick = partial(runtime.submit, runner.run, claimed=True)
    runtime.home = HomeTab(uow=uow, chat=chat, clock=clock, config=config)
    runtime.charts = chart_work(engine, chat, clock, config, uow)
    return runtime, engine


def create_app(
    settings: Settings,
    config: IncidentConfig,
    *,
    clock: Clock | None = None,
    client: WebClient | None = None,
    lease: timedelta = timedelta(seconds=5),
    tick_seconds: float = 1.0,
    workers: int = 16,
    runs_jobs: bool = True,
    pager: Pager | None = None,
) -> IncidentBot:
    """Wire the real adapters; nothing starts running until the caller starts the ticker or a server.

    With `runs_jobs` (the default) this process runs the Slack jobs and the tick too; without, it only
    records and acknowledges, and `incidentbot work` processes run the jobs.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    # Before anything is built: HTTP mode without SLACK_SIGNING_SECRET raises StartupError.
    secret = bolt_signing_secret(settings)
    runtime, engine = build_runtime(
        settings,
        config,
        clock=clock,
        client=client,
        lease=lease,
        workers=workers,
        runs_jobs=runs_jobs,
        pager=pager,
    )

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # A single-workspace bot already knows its token; Bolt's default would call auth.test on the
        # first request, i.e. on the acknowledgement path.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    bolt = App(
        # Bolt's own client only serves its context; ours carries the token and the retry policy.
        client=WebClient(base_url=settings.slack_api_url),
        authorize=authorize,
        signing_secret=secret,
        # Never off: a request over HTTP is served only when it is signed (in Socket Mode, too).
        request_verification_enabled=True,
        # Listeners ack then hand off to our own pool, so processing before the response stays short and
        # behaves the same over HTTP and Socket Mode.
        process_before_response=True,
        logger=_bolt_logger(),
    )
    register_listeners(bolt, runtime)
    return IncidentBot(
        bolt=bolt,
        runtime=runtime,
        wsgi=IncidentBotWsgi(
            bolt,
            healthy=lambda: ping(engine),
            signing_secret=secret,
            webhooks=webhook_routes(settings, config, runtime),
            direct=DirectCommands(COMMANDS, runtime, bolt.client),
            arrivals=runtime.arrivals,
        ),
        engine=engine,
        tick_seconds=tick_seconds,
        worker=JobWorker(runtime, tick_seconds, settings.database_url) if runs_jobs else None,
    )
