"""Which environment variable holds a target's key, and reading it at the moment it is needed."""

from __future__ import annotations

import re
from collections.abc import Mapping

from commands.pager import PagerRefused

# A target's name becomes part of an environment variable's name, so it is held to what one may contain.
TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def key_variable(service: str, name: str) -> str:
    """INCIDENTBOT_<SERVICE>_KEY_<NAME>, the name upper-cased and its hyphens made underscores."""
    return f"INCIDENTBOT_{service.upper()}_KEY_{name.upper().replace('-', '_')}"


def read_key(environ: Mapping[str, str], service: str, name: str) -> str:
    """The key for `service:name` from the environment, read now so a rotated key needs no restart.

    Raises PagerRefused naming the variable (never a value) when the name is unusable or the key unset.
    """
    if not TARGET_NAME.fullmatch(name):
        raise PagerRefused(
            f"the pager target {service}:{name[:64]} has an unusable name "
            "(letters, digits, hyphens and underscores only)"
        )
    variable = key_variable(service, name)
    key = environ.get(variable, "").strip()
    if not key:
        raise PagerRefused(f"no key for {service}:{name}: set the environment variable {variable}")
    return key
