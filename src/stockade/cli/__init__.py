"""The command line: argv -> sources -> engine -> render. Thin by design."""

import os

# stockade uses NumPy for boolean and bit-set arithmetic, never for linear algebra: starting
# OpenBLAS's thread pool would only add to every command's start-up time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
