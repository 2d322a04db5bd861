"""One declaration through the product's batched path, for tests that need a freshly declared incident."""

from __future__ import annotations

from datetime import timedelta

from commands.declare import DeclareRequest, declare_incidents
from commands.incidents import DeclareSettings, Scheduled
from commands.limits import RateLimited
from commands.parsing import Declare
from commands.ports import Clock, UnitOfWorkFactory


def declare_incident(
    cmd: Declare,
    *,
    user_id: str,
    channel_id: str | None,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: DeclareSettings,
    lease: timedelta,
    description: str = "",
) -> Scheduled:
    """Record one new incident and its provisioning job as the bot does, raising RateLimited if refused."""
    request = DeclareRequest(cmd, user_id, channel_id, description)
    [scheduled] = declare_incidents([request], uow=uow, clock=clock, settings=settings, lease=lease)
    if isinstance(scheduled, RateLimited):
        raise scheduled
    assert scheduled is not None, "a declaration without a delivery key is always new"
    return scheduled
