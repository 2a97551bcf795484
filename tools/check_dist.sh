#!/usr/bin/env bash
# Build morpho's wheel and sdist and use them as a new user would (`make dist-check`, run by CI):
#   1. `python -m build` makes dist/morpho_granular-<v>-py3-none-any.whl and morpho_granular-<v>.tar.gz;
#   2. the wheel holds the package and its data (style file, py.typed) and nothing else of the repo;
#   3. a clean venv (no access to the source tree) installs the wheel by the distribution's name
#      from the local folder, with its dependencies from the package index;
#   4. there, `morpho` makes a synthetic micrograph and analyzes it; the result folder passes the
#      output contract (../shared/tools/check_contract.py, where present);
#   5. the sdist is installed over it and checked the same way.
# usage: tools/check_dist.sh PYTHON_WITH_BUILD [BASE_PYTHON]
set -euo pipefail
py=${1:?usage: tools/check_dist.sh PYTHON_WITH_BUILD [BASE_PYTHON]}
base=${2:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
name=morpho-granular
work=$(mktemp -d "${TMPDIR:-/tmp}/morpho-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "building the wheel and sdist of $root"
"$py" -m build --outdir "$work/dist" "$root" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/morpho_granular-*-py3-none-any.whl)
sdist=$(ls "$work"/dist/morpho_granular-*.tar.gz)
echo "  $(basename "$wheel")  $(basename "$sdist")"

"$py" - "$wheel" "$sdist" <<'EOF'
import sys, tarfile, zipfile
wheel, sdist = sys.argv[1:]
names = zipfile.ZipFile(wheel).namelist()
for need in ("morpho/__init__.py", "morpho/morpho.mplstyle", "morpho/py.typed", "morpho/io/__init__.py",
             "morpho/physics/__init__.py", "morpho/synthetic/__init__.py"):
    assert need in names, f"{wheel} lacks {need}"
tops = {n.split("/", 1)[0] for n in names}
stray = {t for t in tops if t != "morpho" and not t.endswith(".dist-info")}
assert not stray, f"{wheel} ships more than the package: {sorted(stray)}"
meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
assert "Name: morpho-granular" in meta, "the wheel's distribution name is not morpho-granular"
members = tarfile.open(sdist).getnames()
for need in ("pyproject.toml", "README.md", "LICENSE", "morpho/morpho.mplstyle"):
    assert any(m.endswith("/" + need) for m in members), f"{sdist} lacks {need}"
print("  contents ok: the package, its data and metadata")
EOF

"$base" -m venv "$work/venv"
vpy="$work/venv/bin/python"
"$vpy" -m pip install --quiet --upgrade pip
echo "installing '$name' from the built wheel into a clean venv"
"$vpy" -m pip install --quiet --find-links "$work/dist" --no-index "$name" --no-deps
"$vpy" -m pip install --quiet "$wheel"   # now its dependencies, from the index

check() {
    local label=$1 out="$work/run-$1"
    mkdir -p "$out"
    # Run from an empty folder so that nothing of the source tree can be imported.
    (
        cd "$out"
        "$vpy" -c "import morpho, pathlib, importlib.resources as r; \
assert 'site-packages' in morpho.__file__, morpho.__file__; \
assert r.files('morpho').joinpath('morpho.mplstyle').is_file()"
        "$work/venv/bin/morpho" --version
        "$work/venv/bin/morpho" synth film.tif --preset inox-bimodal --seed 7 --size 512 --vendor fei >/dev/null
        "$work/venv/bin/morpho" analyze film.tif -o out -q
        test -f out/film/summary.json
        if [ -f "$root/../shared/tools/check_contract.py" ]; then
            "$vpy" "$root/../shared/tools/check_contract.py" out/film --image film.tif
        fi
    )
    echo "  $label: morpho analyze ok"
}
check wheel
echo "installing the sdist over it"
"$vpy" -m pip install --quiet --force-reinstall --no-deps "$sdist"
check sdist
echo "dist-check ok: pip install $name gives a working morpho command"
