"""Packaging: the distribution's name, its entry point and data, and the supported range of releases.

The lower bounds in pyproject.toml are a promise that CI checks by running the suite on them
(``make test-min`` builds ``.venv-min`` from ``requirements/minimum.txt``); these tests keep that
file and pyproject.toml in step, so a raised bound cannot go untested.  ``make dist-check`` builds
the wheel and sdist and runs them in a clean venv; here the installed distribution is checked.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.resources
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
DIST_NAME = "morpho-granular"


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _declared() -> list[Requirement]:
    project = _project()
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def _pins() -> dict[str, tuple[Requirement, str]]:
    pins: dict[str, tuple[Requirement, str]] = {}
    for line in (ROOT / "requirements" / "minimum.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pins[canonicalize_name(req.name)] = (req, line)
    return pins


def _lower_bound(req: Requirement) -> Version:
    lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
    assert len(lows) == 1, f"{req}: give exactly one lower bound (>=), which requirements/minimum.txt pins"
    return lows[0]


def test_every_dependency_has_a_lower_bound_pinned_in_minimum_txt() -> None:
    pins = _pins()
    for req in _declared():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in requirements/minimum.txt"
        pin, line = pins[name]
        (spec,) = pin.specifier
        assert spec.operator == "==", f"{line}: pin with =="
        assert Version(spec.version) == _lower_bound(req), (
            f"pyproject.toml says {req}, requirements/minimum.txt says {line}: keep them equal"
        )
        assert pin.extras == req.extras, f"{line}: the extras of pyproject.toml's {req}"


def test_pins_beyond_the_dependencies_are_explained() -> None:
    """A pin of a package morpho does not declare sits under a comment that says why."""
    declared = {canonicalize_name(r.name) for r in _declared()}
    text = (ROOT / "requirements" / "minimum.txt").read_text()
    others = [n for n in _pins() if n not in declared]
    for name in others:
        pin_line = re.search(rf"^{re.escape(name)}\s*(\[|==)", text, re.IGNORECASE | re.MULTILINE)
        assert pin_line is not None, name
        assert "Not morpho's dependencies" in text[: pin_line.start()], f"{name}: say why it is pinned"


def test_optional_extras_share_the_bounds_of_the_test_extra() -> None:
    """The cholmod extra's cvxopt is the one the test extra installs and minimum.txt pins."""
    project = _project()
    test = {canonicalize_name(Requirement(r).name): Requirement(r) for r in project["optional-dependencies"]["test"]}
    for extra, reqs in project["optional-dependencies"].items():
        for r in map(Requirement, reqs):
            name = canonicalize_name(r.name)
            if extra != "test" and name in test:
                assert r.specifier == test[name].specifier, f"[{extra}] {r} but [test] {test[name]}"


def test_installed_releases_satisfy_the_declared_bounds() -> None:
    """Whichever environment runs the suite satisfies the declared bounds (pip check's rule)."""
    for req in _declared():
        if req.marker is not None and not req.marker.evaluate():
            continue
        installed = Version(md.version(req.name))
        assert installed in req.specifier, f"{req.name} {installed} installed, pyproject.toml says {req}"


def test_installed_under_its_own_name_with_the_morpho_command() -> None:
    dist = md.distribution(DIST_NAME)
    assert dist.metadata["Name"] == DIST_NAME
    (script,) = [e for e in dist.entry_points if e.group == "console_scripts"]
    assert (script.name, script.value) == ("morpho", "morpho.cli:run")
    import morpho

    assert dist.version == morpho.__version__


@pytest.mark.parametrize("name", ["morpho.mplstyle", "py.typed"])
def test_package_data_is_reachable(name: str) -> None:
    assert importlib.resources.files("morpho").joinpath(name).is_file()


def test_readme_installs_the_distribution_by_its_name() -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"pip install[^\n`]*\b{DIST_NAME}\b", readme)
    assert not re.search(r"pip install\s+['\"]?morpho(\[|['\"\s]|$)", readme, re.MULTILINE)
