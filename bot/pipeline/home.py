"""Publishing the Home tab: when someone opens it (after the ack), after their *Done* click, and in the
tick for the views a recorded change made stale (store/home.py says how the change is found, once)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.ops.config import IncidentConfig
from bot.render.home import home_view
from bot.slack.chat import SlackChat
from commands.errors import ChatError
from commands.home import HOME_PERIOD, HomeData, home_data
from commands.insights import Insights, build_query
from commands.ports import Clock
from store.home import SqlHome
from store.insights import SqlInsights
from store.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)

# The 30-day figures are the same for everyone and move slowly: read at most this often per process.
FIGURES_FOR = timedelta(seconds=60)
# Publishes per tick: views.publish is Tier 4 (about 100 a minute), so a burst is spread over ticks.
PUBLISHES_PER_TICK = 20
CLAIM_FOR = timedelta(seconds=30)
RETRY_AFTER = timedelta(seconds=30)
OPEN_LIMIT = 200  # open incidents read per view (the view shows fewer, then "and N more")


class HomeTab:
    """Reads what a person's Home shows and publishes it."""

    def __init__(
        self, *, uow: SqlUnitOfWorkFactory, chat: SlackChat, clock: Clock, config: IncidentConfig
    ) -> None:
        self.store = SqlHome(uow.session_factory)
        self._insights = SqlInsights(uow.session_factory)
        self._chat = chat
        self._clock = clock
        self._config = config
        self._lock = threading.Lock()
        self._figures: tuple[datetime, Insights] | None = None

    def opened(self, user_id: str) -> None:
        """Someone opened Home: remember them, then show them the current state."""
        self.store.opened(user_id, self._clock.now())
        self.publish(user_id)

    def publish(self, user_id: str, notice: str | None = None, *, stale: datetime | None = None) -> bool:
        """Publish the person's view as it stands now; True when Slack took it."""
        now = self._clock.now()
        view = home_view(self._read(user_id, now), self._config.zone, notice)
        try:
            self._chat.publish_home(user_id, view)
        except ChatError:
            self.store.release(user_id, now + RETRY_AFTER)
            return False  # the chat adapter logged it; a stale view is claimed again later
        self.store.published(user_id, now, stale if stale is not None else now)
        return True

    def refresh(self, submit: Callable[..., object]) -> int:
        """The tick's part: mark whom recorded changes touched, and publish the stale views claimed."""
        now = self._clock.now()
        self.store.advance(now)
        claimed = self.store.claim_stale(now, CLAIM_FOR, PUBLISHES_PER_TICK)
        for user_id, stale in claimed:
            submit(self.publish, user_id, stale=stale)
        return len(claimed)

    def _read(self, user_id: str, now: datetime) -> HomeData:
        open_incidents = self.store.open_incidents(OPEN_LIMIT)
        items, refs = self.store.owned_items(user_id)
        return home_data(
            user_id=user_id,
            now=now,
            open_incidents=open_incidents,
            items=items,
            refs=refs,
            figures=self._recent_figures(now),
        )

    def _recent_figures(self, now: datetime) -> Insights | None:
        with self._lock:
            cached = self._figures
        if cached is not None and now - cached[0] < FIGURES_FOR:
            return cached[1]
        try:
            query = build_query(since=now - HOME_PERIOD, until=now, now=now, settings=self._config)
            figures = self._insights.read(query)
        except SQLAlchemyError as exc:
            log.warning("home: the 30-day figures could not be read (%s)", type(exc).__name__)
            return None
        with self._lock:
            self._figures = (now, figures)
        return figures
