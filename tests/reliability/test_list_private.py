"""`/incident list` leaves private incidents out before it counts, so public ones never fall off the list."""

from __future__ import annotations

from datetime import timedelta

from commands.declare import DeclareRequest, declare_incidents
from commands.parsing import Declare
from tests.reliability.conftest import Rig


def test_many_recent_private_incidents_do_not_push_public_ones_off_the_list(any_db_rig: Rig) -> None:
    rig = any_db_rig
    rig.command("declare sev2 Checkout is timing out")
    # More private incidents than the list shows, all declared after the public one.
    secret = [DeclareRequest(Declare(title=f"Payroll leak {n}", private=True), "U1", None) for n in range(60)]
    runtime = rig.bot.runtime
    declare_incidents(
        secret, uow=runtime.uow, clock=runtime.clock, settings=runtime.config, lease=timedelta(seconds=30)
    )

    rig.command("list", user="U3")
    reply = rig.replies()[-1]
    assert "*INC-1*" in reply and "Checkout is timing out" in reply
    assert "Payroll" not in reply and "No open incidents" not in reply
