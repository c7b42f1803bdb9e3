"""The admin's job defaults (c.TritonML.default_partition, default_time, ...), passed to kernels.

A kernel cannot read the server's traitlets: the server exports its :class:`Defaults` as JSON in
``TRITONML_DEFAULTS`` to the kernels it starts, so ``%%tritonml submit`` fills in what the jobs
dialog would. Without it (a kernel started elsewhere) the built-in defaults apply.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping, MutableMapping
from typing import Optional

from .script import Defaults

DEFAULTS_ENV = "TRITONML_DEFAULTS"
log = logging.getLogger(__name__)


def export_defaults(defaults: Defaults, environ: Optional[MutableMapping[str, str]] = None) -> None:
    env = os.environ if environ is None else environ
    env[DEFAULTS_ENV] = json.dumps(dataclasses.asdict(defaults))


def kernel_defaults(environ: Optional[Mapping[str, str]] = None) -> Defaults:
    """The server's defaults when it exported them, else the built-in ones; a field this version
    does not know (a newer server) is ignored, an unreadable value is reported and ignored."""
    text = (os.environ if environ is None else environ).get(DEFAULTS_ENV, "").strip()
    if not text:
        return Defaults()
    try:
        given = json.loads(text)
        known = {field.name for field in dataclasses.fields(Defaults)}
        return Defaults(**{key: value for key, value in given.items() if key in known})
    except (ValueError, TypeError, AttributeError) as exc:
        log.warning("tritonml-lab: ignoring $%s (%s); using the built-in job defaults", DEFAULTS_ENV, exc)
        return Defaults()
