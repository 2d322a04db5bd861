"""`incidentbot forget-user`: honour an erasure request by removing a person's name and words."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.ops.settings import Settings
from commands.ports import Clock, SystemClock
from store.db import make_engine, make_session_factory
from store.erasure import FORGOTTEN_TEXT, Erasure, ErasureRepository
from store.uow import SqlUnitOfWorkFactory


def forget_user(
    user_id: str, *, uow: SqlUnitOfWorkFactory, clock: Clock, other_names: Sequence[str] = ()
) -> Erasure:
    """Erase in one transaction, so an interrupted run leaves everything as it was."""
    with uow() as tx:
        erasure = ErasureRepository(tx.session).forget(user_id, clock.now(), other_names=other_names)
        tx.commit()
        return erasure


def report(user_id: str, erasure: Erasure) -> str:
    """What changed, in counts, and what was kept on purpose."""
    if not erasure.found:
        return f"Nothing found for {user_id}: no name, text or record of theirs is stored. Nothing changed.\n"
    lines = [f"Forgot {user_id}:"]
    if erasure.forgotten_before is not None:
        lines.append(f"  already forgotten on {erasure.forgotten_before:%Y-%m-%d %H:%M} UTC")
        name = "no (already gone)"
    else:
        name = "yes" if erasure.name_removed else "no (none stored)"
    lines += [
        f"  name removed: {name}",
        f"  timeline entries replaced: {erasure.timeline_entries}",
        f"  action items replaced: {erasure.action_items}",
        f"  resolution summaries replaced: {erasure.resolution_summaries}",
        f"  update messages in Slack jobs replaced: {erasure.job_payloads}",
        f"  uploaded postmortem versions emptied: {erasure.postmortem_versions}",
        f"  pages acknowledged in a pager under their name replaced: {erasure.pager_acknowledgements}",
        f'  (replaced text reads "{FORGOTTEN_TEXT}")',
        f"Kept: their member id on {erasure.references_kept} record(s) (who declared, held a role, acted),",
        "so incidents still say who did what. Messages in Slack itself are not touched.",
    ]
    return "\n".join(lines) + "\n"


def run_forget_user(args: argparse.Namespace, settings: Settings) -> int:
    """Forget the member named on the command line; 1 when the database cannot be used."""
    engine = make_engine(settings.database_url)
    try:
        uow = SqlUnitOfWorkFactory(make_session_factory(engine))
        names = getattr(args, "pager_names", None) or []
        erasure = forget_user(args.member_id, uow=uow, clock=SystemClock(), other_names=names)
    except SQLAlchemyError as exc:
        # The driver's first line names the problem (unreachable, not migrated) without any password.
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"incidentbot: cannot use the database: {detail}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(report(args.member_id, erasure), end="")
    return 0
