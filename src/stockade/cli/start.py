"""The process entry point (console scripts, ``python -m stockade``): the settings that must
be in place before the rest of stockade (and NumPy) is imported, then ``cli.main``.

Only the command does this: ``import stockade`` leaves its host program's environment and
garbage collector alone."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import MutableMapping

# What NumPy's bundled OpenBLAS reads for its number of threads, the first set one winning.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")

_paused: list[bool] = []  # holds True while pause_collector's pause lasts


def single_threaded_blas(environ: MutableMapping[str, str]) -> None:
    """One OpenBLAS thread, unless the user chose a number: OpenBLAS starts a thread per
    core when NumPy is imported (10 to 20 ms of a 700-pod run), and nothing in stockade
    calls BLAS (no matrix products, dot or linalg: its arrays are indexed, compared and
    reduced elementwise). Child processes (helm, kubectl, nft) inherit the setting, which
    only OpenBLAS reads."""
    if not any(environ.get(name) for name in BLAS_THREADS):
        environ["OPENBLAS_NUM_THREADS"] = "1"


def pause_collector() -> None:
    """Start-up (imports, the parser) makes tens of thousands of lasting objects and no
    garbage cycles: the cyclic collector would only walk them again and again."""
    if gc.isenabled():
        gc.disable()
        _paused.append(True)


def resume_collector() -> None:
    """The end of start-up, once the command is about to work: what was made so far is
    moved out of the collector's sight (``gc.freeze``; the couple of hundred garbage objects
    among it, from imports, are kept: collecting them first would cost a full collection),
    and collection resumes. Does nothing unless ``pause_collector`` paused it (``main``
    called from a program, a test)."""
    if _paused:
        _paused.clear()
        gc.freeze()
        gc.enable()


def msgspec_without_typing_extensions() -> None:
    """Import msgspec with the ``typing`` module's ``get_type_hints`` and ``Required``
    rather than ``typing_extensions``' (which it prefers when installed, as the live-cluster
    client's dependencies install it): ``typing_extensions`` imports ``inspect``, ``ast``,
    ``dis`` and ``tokenize``, about 5 ms of every command's start-up, for features
    stockade's types do not use (its ``Struct``s hold plain types). Afterwards
    ``typing_extensions`` imports as usual for any other module that wants it."""
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment] # "not importable"
    try:
        import msgspec  # noqa: F401
    finally:
        del sys.modules["typing_extensions"]


def entry() -> None:
    pause_collector()
    single_threaded_blas(os.environ)
    msgspec_without_typing_extensions()
    from stockade.cli.main import entry as run  # only now: it imports the rest

    run()
