"""Names vulture cannot see being used: frameworks, templates, dynamic dispatch and the tests call them.

Vulture matches by name only, so each line marks one name as used wherever it is defined; it is read,
never run. Dead code is deleted, not listed here: an entry says who uses the name, so a stale one is
easy to spot. Pydantic validators and SQLAlchemy event listeners need no entry: [tool.vulture]
ignore_decorators in pyproject.toml covers every function registered that way.
"""

# ruff: noqa: B018 - bare attribute accesses are vulture's whitelist format

from typing import Any

_: Any = object()

# -- pydantic -----------------------------------------------------------------------------------------
_.model_config  # pydantic reads it off the class (bot/ops/config.py, bot/ops/settings.py)
_.lower_severity  # PermissionsConfig fields, read by name through GUARDED_ACTIONS (bot/ops/config.py)
_.assign_commander  # same
_.acknowledge_within  # SeverityConfig targets, read by name through TARGETS (bot/ops/config.py)
_.mitigate_within  # same
_.resolve_within  # same

# -- SQLAlchemy ---------------------------------------------------------------------------------------
_.impl  # TypeDecorator: the column type UTCDateTime wraps (store/models.py)
_.cache_ok  # TypeDecorator: statements using UTCDateTime may be cached
_.process_bind_param  # TypeDecorator hook, called on every bound UTCDateTime value
_.process_result_value  # TypeDecorator hook, called on every UTCDateTime value read
_.type_annotation_map  # DeclarativeBase reads it to map Mapped[datetime] and Mapped[dict] columns
_.posted_at  # BotPost field, mapped imperatively to bot_posts.posted_at (store/models.py)

# -- Alembic ------------------------------------------------------------------------------------------
_.down_revision  # each migration's parent, read by Alembic's script directory (migrations/versions/)
_.branch_labels  # read by Alembic alongside down_revision
_.depends_on  # same

# -- http.server / socketserver -------------------------------------------------------------------------
_.do_GET  # BaseHTTPRequestHandler dispatches GET here (bot/emulator/server.py, bot/ops/worker.py)
_.log_message  # BaseHTTPRequestHandler's per-request log, overridden to stay quiet
_.protocol_version  # BaseHTTPRequestHandler: HTTP/1.1 keeps the emulator's connections alive
_.disable_nagle_algorithm  # StreamRequestHandler sets TCP_NODELAY when it is true
_.close_connection  # BaseHTTPRequestHandler stops reading requests once the socket is a WebSocket
_.daemon_threads  # ThreadingMixIn: request threads do not keep the process alive

# -- waitress -----------------------------------------------------------------------------------------
_.channel_timeout  # HttpLimits fields, passed to waitress.serve as keywords by asdict (bot/ops/local.py)
_.cleanup_interval  # same
_.max_request_header_size  # same
_.max_request_body_size  # same
_.inbuf_overflow  # same

# -- Jinja templates (templates/*.j2; docs/postmortem.md lists them for operators' own templates) ------
_.checklist_undone  # PostmortemData: templates/postmortem.md.j2 (and documented for operators' templates)
_.severity_changed  # Escalation, in postmortem.md.j2 (escalation.*.j2 read the job payload's key)
_.initial_severity  # PostmortemData, in postmortem.md.j2
_.handovers  # IncidentView, in summary.mrkdwn.j2

# -- dynamic dispatch ---------------------------------------------------------------------------------
_.do_declare  # benchmarks/chaos.py Chaos.traffic calls getattr(self, f"do_{kind}") per ACTION_WEIGHTS
_.do_update  # same
_.do_note  # same
_.do_action  # same
_.do_assign  # same
_.do_escalate  # same
_.do_pin  # same
_.do_snooze  # same
_.do_resolve  # same

# -- the Slack emulator's test API (bot/emulator is the tests' Slack; tests/ is not scanned) -------------
_.submit_view  # tests/scenario/test_declare_modal.py, tests/reliability/*
_.message_shortcut  # tests/scenario/test_timeline_capture.py, tests/reliability/*
_.socket_connected  # tests/emulator/test_socket_mode.py, tests/scenario/test_socket_mode_serve.py
_.socket_send_command  # same
_.socket_send_event  # tests/emulator/test_socket_mode.py
_.socket_send_interaction  # same
_.envelopes  # SocketModeHub, in tests/emulator/test_socket_mode.py, tests/scenario/test_socket_mode_serve.py
_.revoke_token  # tests/emulator/test_ratelimits_tokens.py (documented in docs/slack.md)
_.add_reaction  # tests/scenario/test_timeline_capture.py, tests/reliability/test_retries.py
_.check_boxes  # tests/scenario/test_duplicates_checklists.py (a checkboxes click, as people tick items)

# -- record fields the store writes by name -------------------------------------------------------------
_.archived_at  # Incident: set by the archive job's step outcome (commands/archive.py), a column in the store

# -- benchmark results checked by tests/test_benchmarks_smoke.py -----------------------------------------
_.client_calls  # ActionRecord (benchmarks/actions.py): the client saw the calls the emulator did
_.limits_on  # Burst (benchmarks/rate_limited.py): the run measured under Slack's limits

# -- the pager emulators' test API (tests/pagers/ drives them; tests/ is not scanned) -------------------
_.PagerDutyEmulator  # tests/pagers/conftest.py: the tests' PagerDuty
_.OpsgenieEmulator  # tests/pagers/conftest.py: the tests' Opsgenie
_.add_routing_key  # PagerDutyEmulator: an Events API v2 integration for a test
_.add_api_key  # OpsgenieEmulator: an API integration for a test
_.alerts  # both emulators' alerts, asserted on in tests/pagers/
_.custom_details  # PagerDutyAlert: what the adapter sent, asserted on in tests/pagers/
_.acknowledged_by  # both emulators' alerts: who acknowledged, asserted on in tests/pagers/
_.redirect_request  # urllib's HTTPRedirectHandler hook, overridden to refuse redirects (bot/pagers/http.py)

# -- issue trackers (commands/tracker.py, bot/trackers/, bot/emulator/github.py and jira.py) -------------
_.GitHubEmulator  # tests/trackers/, tests/scenario/test_trackers.py; `incidentbot demo` may run it too
_.JiraEmulator  # same
_.do_PUT  # http.server dispatches on the method's name (bot/emulator/tracker_base.py)
_.do_PATCH  # same
_.do_DELETE  # same
_.closed_at  # TrackerLink: set by the closing check's UPDATE (store/tracker_queries.py), a column
_.tracker_key  # ActionItemRow: shown by templates/postmortem.md.j2 with the link
_.tracker_url  # same
_.done_in  # ActionItemRow: the tracker that closed an item, shown by templates/postmortem.md.j2
_.updated_at  # AlertGroup (store/models.py): when a delivery last changed the group, for operators' queries

# -- insights (report, charts) ------------------------------------------------------------------------
_.InsightsReader  # the port /incident stats, the digest and App Home take (SqlInsights implements it)
_.incidents_per_week_png  # one chart each, for /incident stats to upload; tests/test_charts.py
_.time_to_resolve_png  # same
_.within_target_png  # same

# -- App Home -----------------------------------------------------------------------------------------
_.open_home  # SlackEmulator: delivers app_home_opened; tests/scenario/test_app_home.py and the demo's users
_.click_home_button  # SlackEmulator: a click on a published Home view; tests/scenario/test_app_home.py
_.stale_users  # SqlHome: who is owed a publish, for operators and tests/store/test_home_claims.py
_.published_at  # HomeViewer (store/models.py): when the view was last published, for operators' queries

# -- detection and impact (pmdetect) -------------------------------------------------------------------
_.supporting_material  # PostmortemData: pinned links, shown by templates/postmortem.md.j2
_.action_item_groups  # PostmortemData: action items by type, shown by templates/postmortem.md.j2

# -- postmortem status vocabulary ---------------------------------------------------------------------
_.IN_REVIEW  # PostmortemStatus (commands/vocabulary.py): accepted by parsing through tuple(PostmortemStatus)
