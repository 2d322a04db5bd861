"""The `incidentbot` command line: serve, work, demo, migrate, check config, the manifest, export, report,
forget."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from bot.ops.config import ConfigError, IncidentConfig, effective_config_text, load_config
from bot.ops.logsafe import OneLineFormatter
from bot.ops.settings import Settings
from bot.slack.manifest import DEFAULT_REQUEST_URL, manifest_yaml
from store.paths import default_database_url, default_sqlite_path

__all__ = ["build_parser", "main"]

log = logging.getLogger(__name__)

_INCIDENT_RE = re.compile(r"^INC-(\d+)$", re.IGNORECASE)
_MEMBER_RE = re.compile(r"^[UW][A-Z0-9]+$")
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

Handler = Callable[[argparse.Namespace, Settings], int]


def _iso_date(text: str) -> date:
    """argparse type for --since, so a bad date is a usage error rather than a traceback."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _member_id(text: str) -> str:
    """argparse type for forget-user: timelines store member ids, so a name or @handle matches nothing."""
    value = text.strip().removeprefix("<@").removesuffix(">").split("|")[0]
    if not _MEMBER_RE.match(value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Slack member ID (like U0123ABCD; in Slack: their profile, ⋮, Copy member ID)"
        )
    return value


def _configure_logging(level: int) -> None:
    """Log to stderr, one line per record, no request payloads; done in main so imports stay inert."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(_LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    # slack_sdk's DEBUG output includes request bodies and headers; never let it through.
    logging.getLogger("slack_sdk").setLevel(max(level, logging.INFO))


def _load_config_or_report(path: Path | None) -> IncidentConfig | None:
    """Load config, printing a ConfigError for the operator instead of a traceback."""
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"incidentbot: config error: {exc}", file=sys.stderr)
        return None


def _cmd_serve(_args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot; the server module is imported lazily because it pulls in Bolt and the scheduler."""
    config = _load_config_or_report(settings.incidentbot_config)
    if config is None:
        return 2
    _use_database(settings)
    from bot.ops.server import serve

    return int(serve(settings, config))


def _cmd_work(_args: argparse.Namespace, settings: Settings) -> int:
    """Run the Slack jobs and the tick; imported lazily like serve, for the same reason."""
    config = _load_config_or_report(settings.incidentbot_config)
    if config is None:
        return 2
    from bot.ops.worker import work

    return int(work(settings, config))


def _cmd_demo(args: argparse.Namespace, _settings: Settings) -> int:
    """Run the offline demo, which needs no Slack workspace."""
    from bot.ops.demo import run_demo

    return int(run_demo(args))


def _redacted_url(url: str) -> str:
    """Database URLs may carry a password; never print it."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is reported by the migration itself; just hide it here
        return "<database url>"


def _use_database(settings: Settings) -> str:
    """Log which database a command uses (password hidden), creating the default database's directory.

    A relative SQLite path depends on where the command runs, so the file it resolves to is logged too.
    """
    url = settings.database_url
    shown = _redacted_url(url)
    if url == default_database_url():
        default_sqlite_path().parent.mkdir(parents=True, exist_ok=True)
        log.info("database: %s (the default; set DATABASE_URL to use another)", shown)
        return shown
    relative = _relative_sqlite_file(url)
    if relative is not None:
        log.info("database: %s (the file %s)", shown, relative.resolve())
    else:
        log.info("database: %s", shown)
    return shown


def _relative_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL with a relative path, which resolves against the working directory."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # reported by whatever opens the database; only the log line is at stake here
        return None
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or Path(name).is_absolute():
        return None
    return Path(name)


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Apply Alembic migrations up to a revision, for operators who run them outside `serve`."""
    from bot.ops.migrate import upgrade

    target = _use_database(settings)
    print(f"Upgrading database {target} to revision {args.revision} ...")
    upgrade(settings.database_url, args.revision)
    print(f"Database {target} is at revision {args.revision}.")
    return 0


def _cmd_config_check(args: argparse.Namespace, settings: Settings) -> int:
    """Validate a config file (and SLACK_BOT_TOKEN when set) and show the effective result before deploy."""
    path: Path | None = args.file if args.file is not None else settings.incidentbot_config
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"incidentbot: config error: {exc}", file=sys.stderr)
        return 2
    if path is None:
        source = "built-in defaults (no FILE given and INCIDENTBOT_CONFIG is not set)"
    else:
        source = str(path)
    print(f"# Config OK: {source}")
    slack_ok = _check_slack(settings)
    print("# Effective configuration:")
    print(effective_config_text(config), end="")
    return 0 if slack_ok else 2


def _check_slack(settings: Settings) -> bool:
    """Ask Slack about SLACK_BOT_TOKEN as `serve` would; False when `serve` would refuse to start.

    Findings are TOML comments, so the output stays a loadable config file.
    """
    if settings.slack_bot_token is None:
        print("# Slack: not checked (SLACK_BOT_TOKEN is not set)")
        return True
    from bot.ops.startup import StartupError, check_bot_token

    try:
        check = check_bot_token(settings)
    except StartupError as exc:
        print(f"incidentbot: {exc}", file=sys.stderr)
        return False
    print(f"# Slack: {check.summary()}")
    for line in check.warnings():
        print(f"# Slack: {line}")
    return True


def _cmd_manifest(args: argparse.Namespace, _settings: Settings) -> int:
    """Print the app manifest to paste into api.slack.com when creating or updating the app."""
    print(manifest_yaml(request_url=args.url, socket_mode=args.socket_mode), end="")
    return 0


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export incidents for postmortems or archiving; the work happens in bot.ops.export."""
    config = _load_config_or_report(settings.incidentbot_config)
    if config is None:
        return 2
    _use_database(settings)
    from bot.ops.export import run_export

    return int(run_export(args, settings, config))


def _report_since(text: str) -> object:
    """argparse type for report --since; bot.ops.report says what it accepts."""
    from bot.ops.report import since_value

    return since_value(text)


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Figures across incidents; the work happens in bot.ops.report (charts load matplotlib lazily)."""
    config = _load_config_or_report(settings.incidentbot_config)
    if config is None:
        return 2
    _use_database(settings)
    from bot.ops.report import run_report

    return int(run_report(args, settings, config))


def _cmd_forget_user(args: argparse.Namespace, settings: Settings) -> int:
    """Honour an erasure request; the work happens in bot.ops.forget."""
    _use_database(settings)
    from bot.ops.forget import run_forget_user

    return int(run_forget_user(args, settings))


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; separate from main so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog="incidentbot", description="Slack bot that runs incident war rooms."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the bot (HTTP, or Socket Mode when SLACK_APP_TOKEN is set)")
    serve.set_defaults(handler=_cmd_serve)

    work = sub.add_parser("work", help="run the Slack jobs and the periodic tick (no requests served)")
    work.set_defaults(handler=_cmd_work)

    demo = sub.add_parser("demo", help="play a scripted incident without Slack")
    demo.add_argument("--slow", action="store_true", help="pause between steps so people can follow along")
    demo.add_argument(
        "--postmortem-dir", type=Path, default=None, help="also write the postmortem draft here"
    )
    demo.set_defaults(handler=_cmd_demo)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations to DATABASE_URL")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=_cmd_db_upgrade)

    config = sub.add_parser("config", help="config file tools")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate a config file and print the effective config")
    check.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="config file (default: $INCIDENTBOT_CONFIG)"
    )
    check.set_defaults(handler=_cmd_config_check)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument(
        "--url",
        default=DEFAULT_REQUEST_URL,
        help=f"public URL Slack posts events to (default: {DEFAULT_REQUEST_URL})",
    )
    manifest.add_argument("--socket-mode", action="store_true", help="manifest for Socket Mode (no URLs)")
    manifest.set_defaults(handler=_cmd_manifest)

    export = sub.add_parser("export", help="export one incident, or all of them, as Markdown or JSON")
    export.add_argument("incident", nargs="?", metavar="INC-N", help="the incident to export, e.g. INC-42")
    export.add_argument("--all", dest="all", action="store_true", help="export every incident into -o DIR")
    export.add_argument(
        "--since", type=_iso_date, metavar="DATE", help="with --all: only incidents from DATE"
    )
    export.add_argument(
        "--format", choices=("markdown", "json"), default="markdown", help="(default: markdown)"
    )
    export.add_argument(
        "-o", "--output", type=Path, metavar="PATH", help="output file (or directory with --all)"
    )
    export.add_argument(
        "--version",
        type=_positive_int,
        metavar="N",
        help="the postmortem draft's version N byte for byte as uploaded (Markdown, one incident)",
    )
    export.set_defaults(handler=_cmd_export)

    report = sub.add_parser(
        "report", help="figures across the incidents of a period (Markdown, JSON, CSV or PNG charts)"
    )
    report.add_argument(
        "--since",
        type=_report_since,
        metavar="SPAN|DATE",
        help="a span back from --until (30d, 12h) or a date, midnight in the configured zone (default: 30d)",
    )
    report.add_argument(
        "--until", type=_iso_date, metavar="DATE", help="up to midnight starting DATE (default: now)"
    )
    report.add_argument(
        "--format",
        choices=("markdown", "json", "csv", "png"),
        default="markdown",
        help="csv: the weekly rows; png: the charts (needs -o) (default: markdown)",
    )
    report.add_argument("-o", "--output", type=Path, metavar="FILE", help="output file (default: stdout)")
    report.set_defaults(handler=_cmd_report)

    forget = sub.add_parser(
        "forget-user", help="erase a person's name and the text they wrote (an erasure request)"
    )
    forget.add_argument(
        "member_id", type=_member_id, metavar="MEMBER_ID", help="Slack member ID, e.g. U0123ABCD"
    )
    forget.add_argument(
        "--pager-name",
        dest="pager_names",
        action="append",
        metavar="NAME",
        help="their display name in PagerDuty or Opsgenie, if not their Slack name (repeatable)",
    )
    forget.set_defaults(handler=_cmd_forget_user)
    return parser


def _positive_int(text: str) -> int:
    """A version number: 1, 2 …"""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number (1, 2 …)")
    return int(text)


def _check_export_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Enforce the two export forms argparse cannot express; parser.error exits with status 2."""
    args.incident_number = None
    if args.version is not None and (args.all or args.format != "markdown"):
        parser.error("export --version exports one incident's uploaded Markdown: no --all, no --format json")
    if args.all:
        if args.incident is not None:
            parser.error("export: give either INC-N or --all, not both")
        if args.output is None:
            parser.error("export --all needs -o DIR")
        return
    if args.incident is None:
        parser.error("export: give an incident (e.g. INC-42) or --all")
    if args.since is not None:
        parser.error("export: --since only applies with --all")
    match = _INCIDENT_RE.match(args.incident)
    if match is None:
        parser.error(f"export: {args.incident!r} is not an incident reference like INC-42")
    args.incident_number = int(match.group(1))
    args.incident = f"INC-{args.incident_number}"


def _exit_code(exc: SystemExit) -> int:
    """argparse exits via SystemExit; turn it into main's return value so callers get an int."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _make_postmortem_dir(parser: argparse.ArgumentParser, directory: Path) -> None:
    """Make the demo's draft directory now, or refuse now: not with a traceback after the whole demo."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"demo --postmortem-dir {directory}: {exc.strerror or exc}")


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: parse, build settings from the environment, dispatch."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "export":
            _check_export_args(parser, args)
        if args.command == "report" and args.format == "png" and args.output is None:
            parser.error("report --format png needs -o FILE (a PNG on a terminal is unreadable)")
        if args.command == "demo" and args.postmortem_dir is not None:
            _make_postmortem_dir(parser, args.postmortem_dir)
    except SystemExit as exc:
        return _exit_code(exc)
    try:
        settings = Settings()
    except ValidationError as exc:
        _configure_logging(logging.INFO)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {str(err['msg']).removeprefix('Value error, ')}"
            for err in exc.errors(include_url=False)
        )
        print(f"incidentbot: invalid environment: {problems}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level_number)
    handler: Handler = args.handler
    log.debug("running %s", args.command)
    return handler(args, settings)
