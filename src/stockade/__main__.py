"""``python -m stockade``."""

from stockade.cli.start import entry

entry()
