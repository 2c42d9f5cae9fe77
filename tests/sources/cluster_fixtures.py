"""Fixtures for the live-cluster tests: a CA, API server doubles, kubeconfig files.

The API server is a test double (``k8s_double``) because no real API server can run here.
Two servers stand for two clusters so that choosing a context visibly changes what is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from k8s_double import POLICY_CRDS, ApiServerDouble
from k8s_recorded import namespace, pod, recorded_cluster
from kubeconfig_files import TOKEN_BOB, Kubeconfigs


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def alpha(ca: trustme.CA) -> Iterator[ApiServerDouble]:
    """Cluster "alpha": the recorded objects; users authenticate with client certificates."""
    with ApiServerDouble(ca, recorded_cluster()) as server:
        yield server


@pytest.fixture
def beta(ca: trustme.CA) -> Iterator[ApiServerDouble]:
    """Cluster "beta": one namespace, one pod; bob authenticates with a bearer token. The
    cluster-wide policy CRDs are not installed."""
    objects = [namespace("staging", {"env": "staging"}, 1),
               pod("canary", "staging", {"app": "canary"}, "10.9.0.4", 2)]
    with ApiServerDouble(ca, objects, tokens={TOKEN_BOB: "bob"},
                         unserved=set(POLICY_CRDS)) as server:
        yield server


@pytest.fixture
def kubeconfigs(tmp_path: Path, ca: trustme.CA) -> Kubeconfigs:
    return Kubeconfigs(tmp_path, ca)


@pytest.fixture
def two_contexts(alpha: ApiServerDouble, beta: ApiServerDouble,
                 kubeconfigs: Kubeconfigs) -> Path:
    """A kubeconfig with contexts alpha (current) and beta, see ``Kubeconfigs.two_contexts``."""
    return kubeconfigs.two_contexts(alpha, beta)
