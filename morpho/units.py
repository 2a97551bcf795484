"""Physical constants and unit parsing.

All constants come from :mod:`scipy.constants` (CODATA); none are typed in by hand.
Lengths are parsed from strings such as ``"2.5nm"``, ``"0.0025um"``, ``"2.5 nm"``, ``"2.5 µm"``
(micro sign U+00B5) or ``"2.5 μm"`` (Greek mu U+03BC) into metres.
"""

from __future__ import annotations

import math
import re

from scipy import constants as _c

from .errors import ConfigError, InputError

__all__ = [
    "EPSILON_0_F_PER_M",
    "E_CHARGE_C",
    "HBAR_JS",
    "H_JS",
    "K_B_J_PER_K",
    "LENGTH_UNITS_M",
    "MU_0_H_PER_M",
    "OERSTED_T",
    "PHI_0_WB",
    "R_K_OHM",
    "R_Q_OHM",
    "format_length",
    "parse_field",
    "parse_length",
    "parse_resistance",
]

E_CHARGE_C: float = _c.e
H_JS: float = _c.h
HBAR_JS: float = _c.hbar
K_B_J_PER_K: float = _c.k
EPSILON_0_F_PER_M: float = _c.epsilon_0
MU_0_H_PER_M: float = _c.mu_0
PHI_0_WB: float = _c.h / (2 * _c.e)
#: Cooper-pair resistance quantum h/4e^2 (6453.2 ohm), the paper's R_Q.
R_Q_OHM: float = _c.h / (4 * _c.e**2)
#: von Klitzing constant h/e^2 (25812.8 ohm).
R_K_OHM: float = _c.h / _c.e**2
#: 1 Oe corresponds to mu0*H = 1e-4 T (PHYSICS.md section 0).
OERSTED_T: float = 1e-4

#: Length units accepted by :func:`parse_length`, in metres.  Both the micro sign (U+00B5) and
#: the Greek small letter mu (U+03BC) are accepted, as are ``um``, ``micron`` and ``Å``.
LENGTH_UNITS_M: dict[str, float] = {
    "m": 1.0,
    "cm": 1e-2,
    "mm": 1e-3,
    "um": 1e-6,
    "\u00b5m": 1e-6,
    "\u03bcm": 1e-6,
    "micron": 1e-6,
    "microns": 1e-6,
    "nm": 1e-9,
    "pm": 1e-12,
    "a": 1e-10,
    "\u00e5": 1e-10,
    "angstrom": 1e-10,
}

def _as_float(number: float) -> float:
    """``float(number)``, with ints too large for a float becoming +-inf (rejected by the callers)."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _example(text: object, unit: str, fallback: str) -> str:
    """``'<text><unit>'`` as a remedy example when `text` is a finite number, else `fallback`."""
    try:
        finite = math.isfinite(float(text))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        finite = False
    return f"'{text}{unit}'" if finite else fallback


_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")


def parse_length(text: str | float, *, default_unit: str | None = None) -> float:
    """Parse a length such as ``"2.5nm"`` or ``"0.0025 µm"`` into metres.

    Parameters
    ----------
    text : str or float
        Number followed by a unit (``m, cm, mm, um, µm, μm, micron, nm, pm, Å``), with or
        without a space.  A bare number is accepted only when `default_unit` is given.
    default_unit : str, optional
        Unit of a bare number.  ``None`` (default) makes a bare number an error, because a
        length without a unit is ambiguous (and a pixel size must never be guessed).

    Returns
    -------
    float
        The length in metres (finite, > 0).

    Raises
    ------
    ConfigError
        If the text is not a number with a known unit, or the length is not finite and > 0
        (zero, negative, NaN and infinite lengths, and numbers that overflow, all raise).

    Examples
    --------
    >>> parse_length("2.5nm")
    2.5e-09
    >>> round(parse_length("0.0025 \u00b5m"), 15)
    2.5e-09
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if default_unit is None:
            msg = f"length {text!r} has no unit; write it with one, e.g. {_example(text, 'nm', repr('2.5nm'))}"
            raise ConfigError(msg)
        value, unit = _as_float(text), default_unit
    else:
        match = _NUMBER_UNIT.match(str(text))
        if match is None:
            msg = f"cannot read length {text!r}; write a number and a unit, e.g. '2.5nm' or '0.01 um'"
            raise ConfigError(msg)
        value = float(match.group(1))
        unit = match.group(2) or default_unit
        if unit is None:
            msg = f"length {text!r} has no unit; write it with one, e.g. {_example(text, 'nm', repr('2.5nm'))}"
            raise ConfigError(msg)
    key = unit.strip().lower()
    if key not in LENGTH_UNITS_M:
        known = ", ".join(sorted({"m", "mm", "um", "\u00b5m", "nm", "pm", "\u00c5"}))
        msg = f"unknown length unit {unit!r} in {text!r}; use one of {known}"
        raise ConfigError(msg)
    metres = value * LENGTH_UNITS_M[key]
    if not math.isfinite(metres) or metres <= 0:
        msg = f"length {text!r} must be finite and greater than zero"
        raise ConfigError(msg)
    return metres


def format_length(value_m: float) -> str:
    """Format a length in metres with a readable unit (``nm`` below 1 µm, ``um`` below 1 mm, else ``m``).

    Twelve significant digits are kept, so ``parse_length(format_length(x))`` gives back ``x``
    to a relative 5e-12 for every finite ``x > 0``.  Any other float is formatted too, for
    messages: the unit is chosen from the magnitude and the sign kept (``-2.5nm``, ``0nm``), and
    NaN and infinities are written in metres (``nanm``, ``-infm``); :func:`parse_length` rejects
    all of these.

    Examples
    --------
    >>> format_length(2.5e-9)
    '2.5nm'
    >>> format_length(1.5e-6)
    '1.5um'
    >>> format_length(-2.5e-9), format_length(float("nan"))
    ('-2.5nm', 'nanm')
    """
    value_m = _as_float(value_m)
    magnitude = abs(value_m)
    if magnitude < 1e-6:
        return f"{value_m / 1e-9:.12g}nm"
    if magnitude < 1e-3:
        return f"{value_m / 1e-6:.12g}um"
    return f"{value_m:.12g}m"


def parse_field(text: str | float) -> float:
    """Parse a magnetic field (``"300Oe"``, ``"30mT"``, ``"0.03T"``, ``0``) into tesla (mu0*H).

    Units: ``T``, ``mT``, ``uT``, ``Oe``, ``kOe``, ``G`` (any letter case).  A bare number is
    accepted only when it is zero.

    Raises
    ------
    ConfigError
        If the text is not a number with a known unit, or the field is negative, NaN or
        infinite.  ``"-0T"`` gives 0.0.

    Examples
    --------
    >>> parse_field("300Oe")
    0.03
    >>> parse_field("0")
    0.0
    """
    units = {"t": 1.0, "mt": 1e-3, "ut": 1e-6, "oe": OERSTED_T, "koe": 1e3 * OERSTED_T, "g": OERSTED_T}
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = _as_float(text), None
    else:
        match = _NUMBER_UNIT.match(str(text))
        if match is None:
            msg = f"cannot read field {text!r}; write e.g. '300Oe' or '0.03T'"
            raise ConfigError(msg)
        value, unit = float(match.group(1)), match.group(2)
    if unit is None:
        if not math.isfinite(value):
            msg = f"field {text!r} must be finite and >= 0; write e.g. '300Oe' or '0.03T'"
            raise ConfigError(msg)
        if value != 0:
            msg = f"field {text!r} has no unit; write e.g. '{text}Oe' or '{text}T'"
            raise ConfigError(msg)
        return 0.0
    key = unit.strip().lower()
    if key not in units:
        msg = f"unknown field unit {unit!r} in {text!r}; use T, mT, Oe or kOe"
        raise ConfigError(msg)
    tesla = value * units[key]
    if not math.isfinite(tesla) or tesla < 0:
        msg = f"field {text!r} must be finite and >= 0; write e.g. '300Oe' or '0.03T'"
        raise ConfigError(msg)
    return round(tesla, 15) + 0.0  # + 0.0 turns -0.0 into 0.0


_RESISTANCE = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(ohm|kohm|Mohm|MOhm|kOhm|Ohm|Ω|kΩ|MΩ)?\s*$")
_RESISTANCE_SCALE = {"ohm": 1.0, "kohm": 1e3, "mohm": 1e6, "ω": 1.0, "kω": 1e3, "mω": 1e6}


def parse_resistance(text: str | float) -> float:
    """Parse a resistance (``"6500"``, ``"6.5kOhm"``, ``"1MOhm"``, ``"300 ohm"``) into ohms (> 0).

    A bare number is in ohms.  Units: ``ohm``, ``Ohm``, ``kohm``, ``kOhm``, ``Mohm``, ``MOhm``,
    ``Ω``, ``kΩ``, ``MΩ`` (``mohm`` is refused: milli or mega would be a guess).

    Raises
    ------
    InputError
        If the text is not a number with a known unit, or the resistance is not finite and > 0.

    Examples
    --------
    >>> parse_resistance("6.5kOhm")
    6500.0
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = _as_float(text)
    else:
        match = _RESISTANCE.match(str(text))
        value = float("nan") if match is None else float(match.group(1)) * _RESISTANCE_SCALE[
            (match.group(2) or "ohm").lower()]
    if not (math.isfinite(value) and value > 0):
        msg = f"cannot read a resistance from {text!r}; write e.g. 6500, 6.5kOhm or 1MOhm (> 0)"
        raise InputError(msg)
    return value
