"""Duplicates: found at declaration (a hint), and `/incident duplicate INC-12` (or the summary's button).

Marking one incident a duplicate of another resolves it (no postmortem draft: its story goes on in the
other incident, whose postmortem covers it), points its room to the other's room, and invites its members
there. A private incident is never revealed: one refused from a public room reads like an unknown one.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache, partial

from commands.errors import AlreadyResolved, IncidentError, RepeatedDelivery, TryAgain
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, Parallel, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.pages import stop_pages
from commands.parsing import Duplicate
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, UnitOfWork, UnitOfWorkFactory
from commands.records import DuplicateCandidate, Incident, TimelineEvent
from commands.steps import announce_if_public, post_once, refresh_summary, room, set_topic
from commands.targets import stop_targets
from commands.views import view_of
from commands.vocabulary import IncidentStatus

# Possible duplicates: an open incident sharing a service and declared this recently, ...
SAME_SERVICE_WINDOW = timedelta(hours=2)
# ... or one whose title is close, declared this recently; at most this many are compared.
SIMILAR_TITLE_WINDOW = timedelta(hours=24)
CANDIDATES = 200
TITLE_RATIO = 0.8  # difflib's ratio of the normalised titles
MIN_CONTAINED = 8  # a title inside the other counts only when it has this many characters
MAX_CHAIN = 20  # duplicates of duplicates followed to the incident they all point to

_WORDS = re.compile(r"[^\w]+")


# A burst's titles are compared with each candidate's: each title is normalised once, not once per pair.
@lru_cache(maxsize=4096)
def normalised(title: str) -> str:
    """Lower case, punctuation and runs of spaces gone: "Checkout  DOWN!" -> "checkout down"."""
    return " ".join(_WORDS.sub(" ", title.lower()).split())


def close_titles(a: str, b: str) -> bool:
    """Whether two titles look like the same incident: one contains the other, or they are 80% alike."""
    return _close(normalised(a), normalised(b))


# An alert storm declares the same title many times at once: each pair of titles is compared once.
@lru_cache(maxsize=16384)
def _close(x: str, y: str) -> bool:
    """close_titles on normalised titles, remembered: the same pair recurs across a burst."""
    if not x or not y:
        return False
    shorter, longer = sorted((x, y), key=len)
    if len(shorter) >= MIN_CONTAINED and shorter in longer:
        return True
    # Upper bounds of ratio(), far cheaper, rule most pairs out first: the lengths (real_quick_ratio),
    # then the shared characters (quick_ratio).
    if 2 * len(shorter) < TITLE_RATIO * (len(x) + len(y)):
        return False
    lock, matcher = _indexed(y)
    with lock:
        matcher.set_seq1(x)
        return matcher.quick_ratio() >= TITLE_RATIO and matcher.ratio() >= TITLE_RATIO


@lru_cache(maxsize=1024)
def _indexed(title: str) -> tuple[threading.Lock, difflib.SequenceMatcher[str]]:
    """A matcher with `title` as its second sequence, which difflib indexes once and keeps: a burst of
    distinct new titles compared with the same 200 candidates indexes each candidate once, not once per
    new title (100 x 200 distinct pairs: about half the CPU). Its lock: set_seq1 then ratio is one use."""
    return threading.Lock(), difflib.SequenceMatcher(None, "", title)


def looks_like(new: Incident, other: Incident | DuplicateCandidate, now: datetime) -> bool:
    """A possible duplicate: both drills or neither, and a shared service (two hours) or a close title."""
    if new.drill != other.drill or other.private or other.status == IncidentStatus.RESOLVED:
        return False
    if set(new.services) & set(other.services) and other.declared_at >= now - SAME_SERVICE_WINDOW:
        return True
    return other.declared_at >= now - SIMILAR_TITLE_WINDOW and close_titles(new.title, other.title)


def possible_duplicate(
    new: Incident, candidates: Sequence[Incident | DuplicateCandidate], now: datetime
) -> Incident | DuplicateCandidate | None:
    """The newest candidate the new incident looks like (candidates newest first), if any."""
    return next((c for c in candidates if c is not new and looks_like(new, c, now)), None)


def find_possible_duplicates(tx: UnitOfWork, incidents: Sequence[Incident], now: datetime) -> None:
    """Set `possible_duplicate_of` on new, not yet inserted incidents: one indexed read for a whole batch.

    Private incidents are never offered (the declarer may not be in their room), and a drill is only
    compared with drills.
    """
    if not incidents:
        return
    # Candidates' services matter only to a new incident that names some.
    wanted = any(incident.services for incident in incidents)
    candidates = tx.incidents.recent_open(now - SIMILAR_TITLE_WINDOW, CANDIDATES, services=wanted)
    for incident in incidents:
        found = possible_duplicate(incident, candidates, now)
        incident.possible_duplicate_of = found.id if found is not None else None


def link_batch_peers(tx: UnitOfWork, incidents: Sequence[Incident], now: datetime) -> None:
    """Two people declaring the same thing at once share a batch: the later points to the earlier.

    Only incidents the stored ones did not match are compared, after insertion (they have numbers now);
    the matches are written in one statement, however many (an alert storm's titles all look alike).
    """
    links: dict[int, int] = {}
    for position, incident in enumerate(incidents):
        if incident.possible_duplicate_of is not None:
            continue
        earlier = list(reversed(incidents[:position]))
        found = possible_duplicate(incident, earlier, now)
        if found is not None:
            incident.possible_duplicate_of = links[incident.id] = found.id
    tx.incidents.link_duplicates(links)


class DuplicateFeature:
    """`/incident duplicate INC-12` and the summary's *Mark as duplicate*."""

    name = "duplicate"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Duplicate, ask: Ask, deps: Deps) -> Recorded:
        if cmd.incident_id is None:
            raise IncidentError("That button does not point at an incident I know; nothing was changed.")
        scheduled = mark_duplicate(
            cmd.incident_id,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            admins=deps.admins,
            delivery_key=ask.delivery_key,
        )
        # The room's post is the answer everyone sees, as for a resolution.
        return Recorded(scheduled=scheduled, wait=False)


DUPLICATE = DuplicateFeature()


def _unknown(ref: str) -> IncidentError:
    # The same sentence for an incident that does not exist and for one this room may not see.
    return IncidentError(f"I know no incident {ref} this room can be pointed to; nothing was changed.")


def _target(tx: UnitOfWork, incident: Incident, other_id: int) -> Incident:
    """The incident the duplicate points to: the one named, or the one it is itself a duplicate of."""
    ref = f"INC-{other_id}"
    if other_id == incident.id:
        raise IncidentError(f"{incident.ref} cannot be a duplicate of itself; nothing was changed.")
    other = tx.incidents.get(other_id)
    seen = {incident.id}
    for _ in range(MAX_CHAIN):
        if other is None or (other.private and not incident.private):
            raise _unknown(ref)
        if other.id in seen:
            raise IncidentError(
                f"{ref} is already marked as a duplicate of {incident.ref}: marking {incident.ref} a "
                "duplicate of it would make a loop. Nothing was changed."
            )
        seen.add(other.id)
        if other.duplicate_of is None:
            return other
        other = tx.incidents.get(other.duplicate_of)
    raise _unknown(ref)


def mark_duplicate(
    other_id: int,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    admins: Admins = NO_ADMINS,
    delivery_key: str | None = None,
) -> Scheduled:
    """Resolve the room's incident as a duplicate of another and schedule pointing its room there.

    Raises NotInWarRoom, RepeatedDelivery, AlreadyResolved, PermissionDenied, AdminsUnknown, TryAgain (the
    other's room is not open yet) and IncidentError (itself, unknown or private, a loop).
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        if incident.status == IncidentStatus.RESOLVED:
            if incident.duplicate_of is not None:
                raise AlreadyResolved(
                    f"{incident.ref} is already resolved as a duplicate of INC-{incident.duplicate_of}."
                )
            raise AlreadyResolved(f"{incident.ref} is already resolved.")
        require(
            "duplicate",
            settings,
            user=user_id,
            roles=current_roles(incident),
            admins=admins,
            ref=incident.ref,
        )
        other = _target(tx, incident, other_id)
        if other.channel_id is None:
            raise TryAgain(
                f"{other.ref}'s war room is not open yet; try again in a moment. Nothing was changed."
            )
        incident.status = IncidentStatus.RESOLVED
        incident.duplicate_of = other.id
        incident.resolved_at = now
        incident.resolved_by = user_id
        incident.resolution_summary = f"Duplicate of {other.ref}"
        # Reminders and nudges stop, as for a resolution.
        incident.next_update_due_at = None
        incident.commander_due_at = None
        incident.stale_due_at = None
        stop_targets(incident)
        incident.archive_due_at = now + settings.archive_after  # its room is archived like any resolved one
        named = f" (named as INC-{other_id})" if other.id != other_id else ""
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="marked_duplicate",
                actor=user_id,
                text=f"Marked as a duplicate of {other.ref}{named}",
                occurred_at=now,
                data={"of": other.id},
            )
        )
        tx.timeline.add(
            TimelineEvent(
                incident_id=other.id,
                kind="duplicate_linked",
                actor=user_id,
                text=f"{incident.ref} was marked as a duplicate of this incident",
                occurred_at=now,
                data={"duplicate": incident.id},
            )
        )
        payload = {"of": other.id, "of_channel": other.channel_id, "by": user_id}
        fresh = fresh_job(tx, incident.id, JobKind.DUPLICATE, payload)
        job = tx.jobs.add(new_job(JobKind.DUPLICATE, incident.id, now, lease, payload))
        stopped = stop_pages(tx, incident, now, lease)  # resolved: its pages stop, its pager alerts close
        tx.commit()
        view = view_of(incident, settings.severity_description(incident.severity))
        return Scheduled(view, job.id, (stopped.id,) if stopped else (), fresh=fresh)


def post_duplicate(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.duplicate(ctx.incident, ctx.payload)
    return post_once(ctx, "duplicate", room(ctx), message)


def invite_members(ctx: StepContext) -> StepOutcome:
    """Everyone in this room joins the other one (one invite call; the bot, already there, left out)."""
    people = ctx.chat.members(room(ctx))
    if people:
        ctx.chat.invite(ctx.payload["of_channel"], people)
    return StepOutcome(
        events=[("members_invited", f"Invited {len(people)} member(s) to INC-{ctx.payload['of']}")]
    )


def announce_duplicate(ctx: StepContext) -> StepOutcome:
    render = partial(ctx.presenter.duplicate_announcement, ctx.incident, ctx.payload)
    return announce_if_public(ctx, "duplicate_announce", render, "duplicate")


PLANS: dict[str, Plan] = {
    JobKind.DUPLICATE: [
        Parallel(
            ("post_duplicate", post_duplicate),
            ("invite_members", invite_members),
            ("announce_duplicate", announce_duplicate),
            ("refresh_summary", refresh_summary),
            ("set_topic", set_topic),
        ),
    ],
}
