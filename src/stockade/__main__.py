"""``python -m stockade``."""

from stockade.cli.main import entry

entry()
