"""Unit parsing and constants."""

import math

import pytest

from morpho.errors import ConfigError
from morpho.units import R_Q_OHM, format_length, parse_field, parse_length


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("2.5nm", 2.5e-9),
        ("2.5 nm", 2.5e-9),
        ("0.0025um", 2.5e-9),
        ("0.0025 \u00b5m", 2.5e-9),  # micro sign
        ("0.0025\u03bcm", 2.5e-9),  # Greek mu
        ("1e-3 mm", 1e-6),
        ("25 \u00c5", 2.5e-9),
        ("3 micron", 3e-6),
    ],
)
def test_parse_length_units_give_metres(text, metres):
    assert parse_length(text) == pytest.approx(metres, rel=1e-12)


@pytest.mark.parametrize("text", ["2.5", "nm", "2.5 furlongs", "-1nm", "0nm", "nan nm", ""])
def test_parse_length_bad_text_raises_configerror(text):
    with pytest.raises(ConfigError, match="length"):
        parse_length(text)


def test_parse_length_bare_number_with_default_unit():
    assert parse_length("3", default_unit="nm") == pytest.approx(3e-9, rel=1e-12)


@pytest.mark.parametrize("value", [2.5e-9, 1.234e-7, 3.3724e-6, 0.5e-3])
def test_format_length_round_trips(value):
    assert parse_length(format_length(value)) == pytest.approx(value, rel=1e-12)


def test_parse_field_oersted_is_1e4_tesla():
    assert parse_field("600Oe") == pytest.approx(0.06, rel=1e-12)
    assert parse_field("30mT") == pytest.approx(0.03, rel=1e-12)
    assert parse_field("0") == 0.0
    with pytest.raises(ConfigError, match="no unit"):
        parse_field("5")


def test_resistance_quantum_matches_physics_md():
    # PHYSICS.md 1.1: R_Q = h/4e^2 = 6453.2019 ohm
    assert R_Q_OHM == pytest.approx(6453.2019, abs=1e-4)
    assert math.isfinite(R_Q_OHM)
