"""Make the repository's ``benchmarks`` package importable from these tests.

pytest's default import mode puts only the test directory on ``sys.path``; the benchmark
code lives at the repository root, outside the installed ``stockade`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
