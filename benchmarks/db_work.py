"""Database work per action: statements, transactions, and whether any transaction spans a Web API call."""

from __future__ import annotations

from collections import Counter

from benchmarks.actions import PENDING_ACTIONS, ActionRecord
from benchmarks.report import PENDING, Finding, Section, table, verdict

# The issue sets a statement budget for declare only; the other actions are measured and reported.
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
            findings.append(_judge_statements(name, worst))
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
    findings += [
        Finding(
            f"statements per {name}", f"≤ {budget} statements", "-", PENDING, f"`{name}` is not built yet"
        )
        for name, budget in STATEMENT_BUDGETS.items()
        if name in PENDING_ACTIONS
    ]
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


# Per action: why the statements are what they are and what would bring them within the budget.
_ADVICE: dict[str, tuple[str, str]] = {
    "declare": (
        "the command's transaction counts the declarer's recent declares (the per-person limit) and writes "
        "three tables (the incident, its declared event, the job); then the provisioning run records each "
        "step's durable result the moment Slack answers, in its own short transaction (the room's channel "
        "at once, so commands typed in the new room work; then the summary, the announcement, the stage's "
        "other steps, and the end), each updating the job and inserting that step's posts and timeline "
        "events.",
        "recording once per run (7 statements in 2 transactions, as before) is what left a new room "
        "refusing commands until its Tier 2 pin landed; fewer statements would need the step results kept "
        "in the job row instead of their own tables, which we judge not worth it.",
    ),
    "update": (
        "the command's transaction locks the incident (on SQLite an `UPDATE incidents SET id=id`, on "
        "PostgreSQL `SELECT ... FOR UPDATE`), loads it and its roles (selectinload), UPDATEs it and INSERTs "
        "the event(s) and the job; then the job runner opens a second transaction to load what the command "
        "had just written (the job, the incident's pending jobs, the incident, its roles, its posts) and a "
        "third to record the finish with one INSERT per post.",
        "hand the runner the snapshot the command already holds (the job id, the incident view, the roles) "
        "instead of re-reading it when the same process runs the job it just recorded, and record the job's "
        "posts and its finish in one transaction (one executemany INSERT for the posts): about 6 for the "
        "command plus 2 for the finish, 1 transaction fewer; within 6 only if the update's own posts are "
        "kept in the job row (its result) rather than one `bot_posts` row each.",
    ),
}
_ADVICE["update with status"] = _ADVICE["update"]


def _judge_statements(name: str, worst: ActionRecord) -> Finding:
    statements, transactions = len(worst.statements), len(worst.transactions)
    target = f"≤ {STATEMENT_BUDGETS[name]} statements"
    measured = f"{statements} statements in {transactions} transactions"
    if statements <= STATEMENT_BUDGETS[name]:
        return Finding(f"statements per {name}", target, measured, verdict(True))
    shapes = ", ".join(f"{s} ×{n}" if n > 1 else s for s, n in Counter(worst.shapes).items())
    why, close = _ADVICE.get(name, ("", "cut the statements that re-read what the action just wrote."))
    why = f"{why} The statements: {shapes}." if shapes else why
    return Finding(f"statements per {name}", target, measured, verdict(False), why.strip(), close)
