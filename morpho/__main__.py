"""``python -m morpho``."""

from .cli import run

run()
