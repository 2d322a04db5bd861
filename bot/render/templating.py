"""What both renderers share: their Jinja environments (sandboxed for operators) and failure sites."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

# A template that breaks at render time (an unsafe attribute is a SecurityError, a TemplateError) falls
# back to the shipped one; the rest of these are Python errors raised from template expressions.
RENDER_ERRORS = (jinja2.TemplateError, TypeError, ValueError, AttributeError)


def environment(dirs: Sequence[Path], *, sandboxed: bool, **options: Any) -> jinja2.Environment:
    """A Jinja environment over `dirs`; a sandboxed one for operator templates, which are code.

    `templates_dir` holds whatever the operator (or whoever can write there) put in it, and in an
    ordinary environment `{{ ''.__class__.__mro__[1].__subclasses__() }}` reaches anything in the
    process. The shipped templates are part of the package and render unsandboxed: the sandbox checks
    every attribute and call, which makes a long postmortem half as slow again.
    """
    kind = SandboxedEnvironment if sandboxed else jinja2.Environment
    return kind(loader=jinja2.FileSystemLoader([str(d) for d in dirs]), **options)


def failure_site(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line where rendering failed; Jinja maps template frames onto the .j2 file."""
    found: tuple[str | None, int | None] = (None, None)
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2"):
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    return found
