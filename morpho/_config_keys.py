"""One check of a config section's keys, shared by every section's ``from_dict``.

It lives apart from :mod:`morpho.config` because :mod:`morpho.physics` and
:mod:`morpho.distribution` define their own sections and :mod:`morpho.config` imports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError


def reject_unknown_keys(section: str, data: Any, cls: type) -> None:
    """Raise ConfigError unless `data` is a mapping whose keys are all fields of dataclass `cls`.

    The message names the section, the first unknown key and the known ones, e.g.
    ``unknown config key physics.kappa; known keys in [physics]: ...``.

    Examples
    --------
    >>> @dataclasses.dataclass
    ... class Demo:
    ...     a: int = 1
    >>> reject_unknown_keys("demo", {"a": 2}, Demo)
    >>> reject_unknown_keys("demo", {"b": 2}, Demo)
    Traceback (most recent call last):
    ...
    morpho.errors.ConfigError: unknown config key demo.b; known keys in [demo]: a
    """
    if not isinstance(data, Mapping):
        msg = f"config section [{section}] must be a table of keys, got {type(data).__name__}"
        raise ConfigError(msg)
    known = sorted(f.name for f in dataclasses.fields(cls))
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        msg = f"unknown config key {section}.{unknown[0]}; known keys in [{section}]: {', '.join(known)}"
        raise ConfigError(msg)
