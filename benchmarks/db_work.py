"""Database work per action: statements, transactions, and whether any transaction spans a Web API call."""

from __future__ import annotations

from collections import Counter

from benchmarks.actions import PENDING_ACTIONS, ActionRecord
from benchmarks.report import PENDING, Finding, Section, table, verdict

STATEMENT_BUDGETS: dict[str, int] = {"declare": 6}


def section(records: dict[str, list[ActionRecord]], backend: str) -> Section:
    """Summarise each action's SQL and judge the statement budget and the no-open-transaction rule."""
    rows, findings = [], []
    overlaps_total = 0
    for name, runs in records.items():
        worst = max(runs, key=lambda r: len(r.statements))
        kinds = Counter(worst.statements)
        longest = max((t.ended - t.started for r in runs for t in r.transactions), default=0.0)
        overlaps = sum(r.overlaps for r in runs)
        overlaps_total += overlaps
        per_tx = ", ".join(str(t.statements) for t in worst.transactions)
        rows.append(
            [
                name,
                str(len(worst.statements)),
                ", ".join(f"{k} {n}" for k, n in kinds.most_common()),
                f"{len(worst.transactions)} ({per_tx})",
                f"{longest * 1000:.1f} ms",
                str(overlaps),
            ]
        )
        if name in STATEMENT_BUDGETS:
            findings.append(_judge_statements(name, len(worst.statements), len(worst.transactions)))
    for name in PENDING_ACTIONS:
        rows.append([name, "-", "-", "-", "-", "not yet measurable"])
    findings.append(
        Finding(
            "transaction open across a Web API call",
            "never",
            f"{overlaps_total} overlaps in {sum(len(r) for r in records.values())} runs",
            verdict(overlaps_total == 0),
            "" if overlaps_total == 0 else "a unit of work stays open while the chat port is called.",
            ""
            if overlaps_total == 0
            else "commit before calling Slack; record results in a new unit of work.",
        )
    )
    findings.append(
        Finding("statements per update", "(budget to be set)", "-", PENDING, "`update` is not built yet")
    )
    method = (
        f"Same runs as the Web API table ({backend}). A `before_cursor_execute` listener on the app's own "
        "engine (`bot.engine`) counts statements; `begin`/`commit`/`rollback` listeners time each "
        "transaction with the thread it ran on; the bot's Web API client (`make_web_client`, its "
        "`api_call` wrapped on the instance) times each call with its thread. A transaction overlaps a call "
        "when both ran on the same thread and their intervals intersect. Connection-level pragmas and pool "
        "pings are not counted."
    )
    return Section(
        "Database work per action",
        method,
        tables=[
            table(
                [
                    "action",
                    "statements",
                    "by kind",
                    "transactions (statements each)",
                    "longest transaction",
                    "overlaps",
                ],
                rows,
            )
        ],
        findings=findings,
    )


def _judge_statements(name: str, statements: int, transactions: int) -> Finding:
    target = f"≤ {STATEMENT_BUDGETS[name]} statements"
    measured = f"{statements} statements in {transactions} transactions"
    if statements <= STATEMENT_BUDGETS[name]:
        return Finding(f"statements per {name}", target, measured, verdict(True))
    why = (
        "the durable job records each provisioning step in its own transaction (SELECT the job, UPDATE "
        "done_steps, plus the step's INSERT/UPDATE), loads job/incident/roles/posts separately, re-reads the "
        "incident for the reply, and `declare_incident` lazily loads `roles` after its commit (an extra "
        "transaction)."
    )
    close = (
        "record steps with one UPDATE each by primary key (no SELECT first: `UPDATE slack_jobs SET "
        "done_steps = done_steps || :step`), batch the step records of the run into one transaction after "
        "the calls that have no crash-recovery risk (invite, topic, pin are idempotent), carry the "
        "channel id in the job result instead of re-reading the incident, and build the snapshot before "
        "commit. Roughly: 3 INSERTs + 1 job claim + 2-3 step records."
    )
    return Finding(f"statements per {name}", target, measured, verdict(False), why, close)
