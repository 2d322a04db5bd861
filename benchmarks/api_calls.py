"""Web API calls per action, by method and Slack rate tier: rate limits bite per method tier, not in total."""

from __future__ import annotations

from collections import Counter

from benchmarks.actions import PENDING_ACTIONS, ActionRecord
from benchmarks.report import PENDING, Finding, Section, table, verdict

# Slack's published rate tiers for the methods the bot calls (chat.postMessage has its own per-channel limit).
TIERS: dict[str, str] = {
    "conversations.create": "Tier 2",
    "conversations.setTopic": "Tier 2",
    "pins.add": "Tier 2",
    "conversations.list": "Tier 2",
    "conversations.invite": "Tier 3",
    "chat.update": "Tier 3",
    "conversations.join": "Tier 3",
    "conversations.history": "Tier 3",
    "chat.postEphemeral": "Tier 4",
    "users.info": "Tier 4",
    "chat.postMessage": "special",
    "usergroups.users.list": "Tier 2",
    "conversations.replies": "Tier 3",
    "views.open": "Tier 4",
    "files.getUploadURLExternal": "Tier 4",
    "files.completeUploadExternal": "Tier 4",
}
# action -> (most calls, most Tier 2 calls or None)
BUDGETS: dict[str, tuple[int, int | None]] = {
    "declare": (6, 2),
    "update": (3, None),
    "update with status": (3, None),
}


def tier(method: str) -> str:
    """The method's rate tier, or 'unlisted' for one this table does not know yet."""
    return TIERS.get(method, "unlisted")


def section(records: dict[str, list[ActionRecord]]) -> Section:
    """Count calls per action (the worst of its repeats) by method and tier, and judge the budgets."""
    rows, findings = [], []
    for name, runs in records.items():
        worst = max(runs, key=lambda r: len(r.calls))
        by_method = Counter(c.method for c in worst.calls)
        by_tier = Counter(tier(c.method) for c in worst.calls)
        methods = ", ".join(f"{m} ×{n}" if n > 1 else m for m, n in by_method.items()) or "none"
        tiers = ", ".join(f"{t}: {n}" for t, n in sorted(by_tier.items())) or "-"
        rows.append([name, str(len(worst.calls)), tiers, methods])
        if name in BUDGETS:
            findings.append(_judge(name, len(worst.calls), by_tier["Tier 2"], by_method))
    for name in PENDING_ACTIONS:
        rows.append([name, "-", "-", "not yet measurable (command not built)"])
        if name in BUDGETS:
            most, _ = BUDGETS[name]
            findings.append(
                Finding(f"Web API calls per {name}", f"≤ {most} calls", "-", PENDING, "command not built yet")
            )
    method = (
        "Each action is delivered as a signed slash command to the app over HTTP, then the worker pool is "
        "drained; the calls are those the emulator received (HTTP requests, so client retries would count). "
        "Actions run sequentially, twice each; the table shows the run with more calls. Replies through "
        "`response_url` are not Web API calls and are not counted."
    )
    return Section(
        "Web API calls per action",
        method,
        tables=[table(["action", "calls", "by tier", "methods in order"], rows)],
        findings=findings,
    )


# Why an action's calls exceed its budget and what would close it, kept per action so the advice fits.
_ADVICE: dict[str, tuple[str, str]] = {
    "declare": (
        "the plan calls {tier2}, each Tier 2 (about 20 calls a minute per method per workspace), so a burst "
        "of declares hits a 429 on every one of them at about 20 declares a minute, and each 429 costs a "
        "Retry-After wait on the critical path.",
        "the war-room issue requires both the topic (severity, status, title) and the pinned summary at "
        "declaration, and Slack has no Tier 3 way to do either, so we keep them and take the third Tier 2 "
        "call. Dropping `conversations.setTopic` from declare (setting the topic on the first change "
        "instead), or a bookmark instead of `pins.add`, would bring declare to 2 Tier 2 calls at the "
        "cost of that requirement. The three Tier 2 calls go out concurrently, so a 429 delays only its "
        "own step and the job resumes it.",
    ),
    "update with status": (
        "a plain update is 2 calls (room post and announcement); a status change also edits the pinned "
        "summary and the topic, both of which the incident-actions issue requires to follow the status.",
        "keep the status out of the channel topic (the pinned summary already shows it), which would make "
        "a status update 3 calls at the cost of that requirement; the 4 calls go out concurrently.",
    ),
}


def _judge(name: str, calls: int, tier2: int, by_method: Counter[str]) -> Finding:
    most, most_tier2 = BUDGETS[name]
    ok = calls <= most and (most_tier2 is None or tier2 <= most_tier2)
    target = f"≤ {most} calls" + (f", ≤ {most_tier2} Tier 2" if most_tier2 is not None else "")
    measured = f"{calls} calls, {tier2} Tier 2"
    if ok:
        return Finding(f"Web API calls per {name}", target, measured, verdict(True))
    tier2_methods = ", ".join(m for m in by_method if tier(m) == "Tier 2") or "no Tier 2 method"
    methods = ", ".join(f"{m} ×{n}" if n > 1 else m for m, n in by_method.items())
    why, close = _ADVICE.get(
        name, (f"it calls {methods}.", "drop the calls whose result nobody sees, or fold them together.")
    )
    return Finding(
        f"Web API calls per {name}", target, measured, verdict(False), why.format(tier2=tier2_methods), close
    )
