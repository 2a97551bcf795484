"""Configuration: defaults, validation naming the key, TOML/JSON round trips."""

import json

import pytest

from morpho.config import AnalysisConfig, GraphConfig, SegmentConfig, config_from_dict, defaults_toml, load_config
from morpho.errors import ConfigError


def test_config_round_trip_through_json_is_exact():
    cfg = AnalysisConfig().replace("graph", max_gap_m=2e-8).replace("physics", relative_permittivity=12.5)
    again = load_config(json.dumps(cfg.to_dict()), fmt="json")
    assert again == cfg


def test_config_toml_accepts_lengths_with_units():
    cfg = load_config('[segment]\nmin_diameter_m = "12 nm"\n[graph]\nmax_gap_m = "0.02um"\n', fmt="toml")
    assert cfg.segment.min_diameter_m == pytest.approx(12e-9, rel=1e-12)
    assert cfg.graph.max_gap_m == pytest.approx(20e-9, rel=1e-12)


def test_defaults_toml_reloads_to_the_defaults():
    assert load_config(defaults_toml(), fmt="toml") == AnalysisConfig()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"segmnt": {}}, "segmnt"),
        ({"segment": {"split_rato": 0.5}}, "split_rato"),
        ({"segment": {"split_ratio": "high"}}, "split_ratio"),
        ({"segment": {"dark_grains": 1}}, "dark_grains"),
        ({"segment": {"threshold_method": "magic"}}, "threshold_method"),
        ({"segment": {"min_area_px": 2.5}}, "min_area_px"),
        ({"graph": {"max_gap_m": -1.0}}, "max_gap_m"),
        ({"graph": {"gap_limit_m": "wide"}}, "wide"),
        ({"input": {"databar_rows": -3}}, "databar_rows"),
        ({"physics": {"no_such": 1}}, "no_such"),
        ({"segment": [1, 2]}, "segment"),
    ],
)
def test_config_from_dict_bad_values_name_the_key(data, needle):
    with pytest.raises(ConfigError, match=needle):
        config_from_dict(data)


def test_load_config_bad_syntax_raises_configerror():
    with pytest.raises(ConfigError, match="TOML"):
        load_config("[segment\n", fmt="toml")


def test_stage_configs_validate_directly():
    with pytest.raises(ConfigError, match="split_ratio"):
        SegmentConfig(split_ratio=1.5)
    with pytest.raises(ConfigError, match="gap_limit_m"):
        GraphConfig(gap_limit_m=0.0)
    with pytest.raises(ConfigError, match="unknown config section"):
        AnalysisConfig().replace("nope", x=1)
