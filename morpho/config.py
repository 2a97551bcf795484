"""Configuration: frozen dataclasses for every stage, read from TOML and written as JSON.

An :class:`AnalysisConfig` holds one section per stage: ``input``, ``segment``, ``graph``,
``distribution`` and ``physics``.  Every field has a documented default; the CLI and a TOML
file override them.  ``config.json`` in each result folder is ``AnalysisConfig.to_dict()``, and
``--config OUT/<stem>/config.json`` reproduces the run exactly.

Lengths (fields ending in ``_m``) are stored in metres; in TOML they may also be written as
strings with a unit (``min_diameter_m = "8nm"``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._config_keys import reject_unknown_keys
from .distribution import DistributionConfig
from .errors import ConfigError
from .physics import PhysicsConfig
from .units import format_length, parse_length

__all__ = [
    "AnalysisConfig",
    "GraphConfig",
    "InputConfig",
    "PercolationConfig",
    "SegmentConfig",
    "config_from_dict",
    "defaults_toml",
    "load_config",
]


def _check_positive(name: str, value: float | None, *, allow_none: bool = False, allow_zero: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        msg = f"{name} must be a finite number, got {value!r}"
        raise ConfigError(msg)
    if value < 0 or (value == 0 and not allow_zero):
        msg = f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}"
        raise ConfigError(msg)


@dataclass(frozen=True)
class InputConfig:
    """How the micrograph is read.

    Attributes
    ----------
    pixel_size_m : float or None
        Pixel size in metres that overrides the file's metadata (``--pixel-size``).  ``None``
        (default): take it from the vendor metadata; it is never guessed.
    databar_rows : int or None
        Rows of the SEM information bar at the bottom (``--databar-rows``).  ``None`` (default):
        from the vendor metadata, else detected from the pixels.
    """

    pixel_size_m: float | None = None
    databar_rows: int | None = None

    def __post_init__(self) -> None:
        _check_positive("input.pixel_size_m", self.pixel_size_m, allow_none=True)
        if self.databar_rows is not None and (
            isinstance(self.databar_rows, bool) or not isinstance(self.databar_rows, int) or self.databar_rows < 0
        ):
            msg = f"input.databar_rows must be an integer >= 0, got {self.databar_rows!r}"
            raise ConfigError(msg)


@dataclass(frozen=True)
class SegmentConfig:
    """Segmentation options (see :mod:`morpho.segment`).

    Attributes
    ----------
    dark_grains : bool
        Grains darker than the matrix (inverted contrast).  Default False: bright grains.
    flatten_background : bool
        Remove the slow brightness gradient of the matrix before thresholding.  Default True.
    remove_line_offsets : bool
        Subtract each scan line's offset (line jitter: the median over the row of the row minus
        its vertically smoothed self) before segmenting.  Default False.  On a clean micrograph
        with line jitter a darker scan line is otherwise a "valley" across every grain (morpho's
        clean synthetic films: object F1 0.67 -> 0.96); but a straight groove or edge that spans
        most of a row is taken for an offset and removed, so it is not on by default.
    smoothing_sigma_px : float or None
        Gaussian sigma before thresholding; ``None`` (default) chooses it from the measured
        noise: 0.6 px on clean images, ~1.2 px on ordinary SEM noise (small enough to keep
        3-px-radius grains), at most 2 px on very low-dose images.
    threshold_method : {"otsu", "li", "triangle"}
        Global threshold on the flattened image.  Default "otsu".
    method : {"threshold", "regions"}
        "threshold" (default): global threshold with hysteresis, hole filling, splitting of
        touching grains at grooves and necks, per-grain edge refinement.  "regions": statistical
        region merging of superpixels (:mod:`morpho.regions`) for closed films of touching,
        flat-topped grains of different brightness (some barely above the matrix), where a
        global threshold loses the dim grains; it cuts grains with bright rims, shading or
        texture into pieces, so it is not the default.
    fill_holes : bool
        Fill the dim interiors of edge-brightened grains: background regions ringed by grain and
        brighter than the matrix (pockets of matrix between touching grains stay matrix).
        Default True.
    refine_edges : bool
        Move each grain's edge to its own half-maximum between matrix and grain level (removes
        the size bias of a global threshold on blurred edges, worst for small grains).
        Default True.
    split_touching : bool
        Split touching grains with a marker-controlled watershed.  Default True.
    split_ratio : float
        A neck between two touching grains is cut when narrower than this fraction of the
        smaller grain's inscribed radius (0 < ratio < 1).  Default 0.7.
    split_offset_px : float
        Offset c in the ``ln(distance + c)`` marker landscape; damps splits of grains of a few
        pixels, where the distance map is quantised.  Default 1.5 px.
    split_by_level : bool
        Also split a grain made of two or more flat patches of clearly different brightness
        that meet at concave corners (grains touching with no gap and no groove; see
        ``morpho.segment.LEVEL_SPLIT_MIN_AREA_PX``).  Shaded or textured particles are left
        whole.  Default True.
    valley_threshold : float or None
        Touching grains are also split along dark contact grooves and gaps whose valley strength
        (:func:`morpho.segment.valley_strength`, in local-noise standard deviations) exceeds
        this.  ``None`` splits by shape alone.  Default 6: on morpho's benchmark it is where
        the separated-grain presets lose nothing and the touching-grain presets gain most
        (lower values cut along noise in the interiors of large or textured grains).
    min_diameter_m : float
        Smallest equivalent diameter kept, in metres.  Default 8 nm: below it the level spacing
        of an In grain approaches the gap (PHYSICS.md 1.2), and at typical SEM pixels it is
        2-4 px, the detection limit.
    min_area_px : int
        Floor on the kept area in pixels whatever the pixel size (PHYSICS.md 6.1: ~9 px^2 is the
        least that can be measured).  Default 9.
    tile_px : int
        Micrographs larger than ``tile_px + 2 * tile_overlap_px`` in either direction are
        segmented (threshold method) tile by tile, ~``tile_px`` square, each with
        ``tile_overlap_px`` of overlap, and the tiles' grains stitched (each grain from the tile
        whose core holds its centroid): the working memory is that of one tile whatever the
        image size.  The normalisation, background, noise and threshold are those of the whole
        image.  0 turns tiling off.  Default 2048.
    tile_overlap_px : int
        Overlap of the tiles, in pixels; a grain up to twice this across is cut out whole from
        one tile (a larger one is flagged with a warning).  Default 256.
    """

    dark_grains: bool = False
    flatten_background: bool = True
    remove_line_offsets: bool = False
    smoothing_sigma_px: float | None = None
    threshold_method: Literal["otsu", "li", "triangle"] = "otsu"
    method: Literal["threshold", "regions"] = "threshold"
    fill_holes: bool = True
    refine_edges: bool = True
    split_touching: bool = True
    split_ratio: float = 0.7
    split_offset_px: float = 1.5
    split_by_level: bool = True
    valley_threshold: float | None = 6.0
    min_diameter_m: float = 8e-9
    min_area_px: int = 9
    tile_px: int = 2048
    tile_overlap_px: int = 256

    def __post_init__(self) -> None:
        for name in ("tile_px", "tile_overlap_px"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = f"segment.{name} must be a whole number of pixels >= 0, got {value!r}"
                raise ConfigError(msg)
        if 0 < self.tile_px < 256:
            msg = f"segment.tile_px must be 0 (no tiling) or at least 256 px, got {self.tile_px!r}"
            raise ConfigError(msg)
        _check_positive("segment.smoothing_sigma_px", self.smoothing_sigma_px, allow_none=True, allow_zero=True)
        if self.threshold_method not in ("otsu", "li", "triangle"):
            msg = f"segment.threshold_method must be 'otsu', 'li' or 'triangle', got {self.threshold_method!r}"
            raise ConfigError(msg)
        if self.method not in ("threshold", "regions"):
            msg = f"segment.method must be 'threshold' or 'regions', got {self.method!r}"
            raise ConfigError(msg)
        _check_positive("segment.split_ratio", self.split_ratio)
        if not self.split_ratio < 1:
            msg = f"segment.split_ratio must be between 0 and 1, got {self.split_ratio!r}"
            raise ConfigError(msg)
        _check_positive("segment.split_offset_px", self.split_offset_px)
        _check_positive("segment.valley_threshold", self.valley_threshold, allow_none=True)
        _check_positive("segment.min_diameter_m", self.min_diameter_m, allow_zero=True)
        _check_positive("segment.min_area_px", self.min_area_px)


@dataclass(frozen=True)
class GraphConfig:
    """Neighbour-graph options (see :mod:`morpho.graph`).

    Attributes
    ----------
    max_gap_m : float or None
        Junctions with a wider gap are dropped (``--max-gap``).  Default ``None``: the full
        SKIZ adjacency, the one behind the paper's <z> ~ 6.
    gap_limit_m : float
        Gap cut of the *second* coordination figure that the summary reports beside the SKIZ one
        (PHYSICS.md 6.3 asks for both).  Default 30 nm.
    """

    max_gap_m: float | None = None
    gap_limit_m: float = 30e-9

    def __post_init__(self) -> None:
        _check_positive("graph.max_gap_m", self.max_gap_m, allow_none=True, allow_zero=True)
        _check_positive("graph.gap_limit_m", self.gap_limit_m)


@dataclass(frozen=True)
class PercolationConfig:
    """Percolation-analysis options (see :mod:`morpho.percolation`, PHYSICS.md section 7).

    Attributes
    ----------
    connectivity : int
        4 (default: clusters of grains in physical contact, sharing an edge) or 8 (corners
        count too).  The summary also gives the cluster count and spanning for the other one.
    bridge_gap_m : float
        Metal closer than this across the matrix counts as connected (the electrically relevant,
        gap-bridged clusters of PHYSICS 7.2: the metal is dilated by half this gap before
        labelling).  Default 0: contact only.
    """

    connectivity: int = 4
    bridge_gap_m: float = 0.0

    def __post_init__(self) -> None:
        if self.connectivity not in (4, 8):
            msg = f"config key percolation.connectivity must be 4 or 8, got {self.connectivity!r}"
            raise ConfigError(msg)
        _check_positive("percolation.bridge_gap_m", self.bridge_gap_m, allow_zero=True)


@dataclass(frozen=True)
class AnalysisConfig:
    """The whole configuration of one ``morpho analyze`` run."""

    input: InputConfig = field(default_factory=InputConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    graph: GraphConfig = field(default_factory=GraphConfig)
    distribution: DistributionConfig = field(default_factory=DistributionConfig)
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)
    percolation: PercolationConfig = field(default_factory=PercolationConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Return a JSON-serialisable dict, one sub-dict per section."""
        return {
            "input": dataclasses.asdict(self.input),
            "segment": dataclasses.asdict(self.segment),
            "graph": dataclasses.asdict(self.graph),
            "distribution": self.distribution.to_dict(),
            "physics": self.physics.to_dict(),
            "percolation": dataclasses.asdict(self.percolation),
        }

    def sha256(self) -> str:
        """Hex SHA-256 of the canonical JSON of :meth:`to_dict` (sorted keys): equal for equal
        configurations however they were given (TOML, --set, config.json).  ``summary.json``
        records it; ``morpho batch`` skips images whose result has the same one."""
        import hashlib
        import json

        from .export import to_jsonable

        text = json.dumps(to_jsonable(self.to_dict()), sort_keys=True, separators=(",", ":"), allow_nan=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def replace(self, section: str, **changes: Any) -> AnalysisConfig:
        """Return a copy with fields of one section changed (validated again)."""
        if section not in _SECTIONS:
            msg = f"unknown config section {section!r}; use one of {', '.join(_SECTIONS)}"
            raise ConfigError(msg)
        current = getattr(self, section)
        data = current.to_dict() if hasattr(current, "to_dict") else dataclasses.asdict(current)
        data.update(changes)
        return dataclasses.replace(self, **{section: _section_from_dict(section, data)})


_SECTIONS: dict[str, type] = {
    "input": InputConfig,
    "segment": SegmentConfig,
    "graph": GraphConfig,
    "distribution": DistributionConfig,
    "physics": PhysicsConfig,
    "percolation": PercolationConfig,
}


def _is_length_key(name: str) -> bool:
    """A length in metres (``*_m``), not a quantity per metre (``*_per_m``)."""
    return name.endswith("_m") and not name.endswith("_per_m")


def _coerce(section: str, name: str, annotation: Any, value: Any) -> Any:
    """Check and convert one value against a dataclass field annotation."""
    key = f"{section}.{name}"
    hint = annotation
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        hint = non_none[0] if len(non_none) == 1 else non_none
        origin = typing.get_origin(hint) if not isinstance(hint, list) else None
        args = typing.get_args(hint) if not isinstance(hint, list) else ()
    if origin is Literal:
        if value not in args:
            msg = f"config key {key} must be one of {', '.join(map(repr, args))}, got {value!r}"
            raise ConfigError(msg)
        return value
    if hint is bool:
        if not isinstance(value, bool):
            msg = f"config key {key} must be true or false, got {value!r}"
            raise ConfigError(msg)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"config key {key} must be an integer, got {value!r}"
            raise ConfigError(msg)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            msg = f"config key {key} must be a number, got {value!r}"
            raise ConfigError(msg)
        return float(value)
    if hint is str and not isinstance(value, str):
        msg = f"config key {key} must be a string, got {value!r}"
        raise ConfigError(msg)
    return value


def _section_from_dict(section: str, data: Any) -> Any:
    cls = _SECTIONS[section]
    reject_unknown_keys(section, data, cls)
    # Lengths may be written with units in any section ("10nm").
    data = {k: parse_length(v) if isinstance(v, str) and _is_length_key(k) else v for k, v in data.items()}
    if hasattr(cls, "from_dict"):
        return cls.from_dict(data)
    hints = typing.get_type_hints(cls)
    values = {k: _coerce(section, k, hints[k], v) for k, v in data.items()}
    return cls(**values)


def config_from_dict(data: dict[str, Any]) -> AnalysisConfig:
    """Build an :class:`AnalysisConfig` from a dict of sections, naming any bad key.

    Raises
    ------
    ConfigError
        For an unknown section or key, or a value of the wrong type or range.
    """
    if not isinstance(data, dict):
        msg = "a configuration must be a table of sections ([segment], [graph], ...)"
        raise ConfigError(msg)
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        msg = f"unknown config section [{unknown[0]}]; known sections: {', '.join(_SECTIONS)}"
        raise ConfigError(msg)
    return AnalysisConfig(**{name: _section_from_dict(name, section) for name, section in data.items()})


def load_config(text: str, *, fmt: Literal["toml", "json"]) -> AnalysisConfig:
    """Parse TOML or JSON text (the caller reads the file) into an :class:`AnalysisConfig`."""
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        msg = f"cannot parse the {fmt.upper()} configuration: {exc}"
        raise ConfigError(msg) from None
    return config_from_dict(data)


def _toml_value(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and _is_length_key(name):
        return f"{value!r}  # {format_length(value)}"
    return repr(value)


def defaults_toml() -> str:
    """The default configuration as commented TOML (``morpho config --defaults``)."""
    lines = [
        '# morpho default configuration. Lengths may be written with units ("8nm", "0.03um").',
        "# Keys left commented out default to 'not set' (None).",
    ]
    for section, data in AnalysisConfig().to_dict().items():
        lines.append("")
        lines.append(f"[{section}]")
        for name, value in data.items():
            text = _toml_value(value, name)
            lines.append(f"# {name} =" if text == "" else f"{name} = {text}")
    return "\n".join(lines) + "\n"


def config_path_format(path: Path) -> Literal["toml", "json"]:
    """Which parser a config file needs, from its suffix."""
    return "json" if path.suffix.lower() == ".json" else "toml"
