"""The agent's loop driven event by event, in this process, against a real kernel (a
network namespace of the test's own): a first load that fails is tried again over what
was listed, a refused incremental transaction is repaired by a whole load, readiness says
why it is not, and a cluster-wide policy kind the API does not serve is no policy."""

from __future__ import annotations

import io
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from watch_support import make_netns

from stockade.agent.health import Health
from stockade.agent.log import Log
from stockade.agent.loop import KIND_OF, Agent, AgentOptions
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.nft.apply import NftRunner
from stockade.sources.cluster_config import load_cluster_config
from stockade.sources.watch import Changed, Listed, Trouble

pytestmark = pytest.mark.lab
TABLE = "stk_loop"


@pytest.fixture
def netns() -> Iterator[str]:
    yield from make_netns("loop")


def _raw(kind: str, name: str, version: str, **rest: Any) -> RawObject:
    api = "networking.k8s.io/v1" if kind == "NetworkPolicy" else "v1"
    meta = {"name": name, "resourceVersion": version}
    if kind in ("Pod", "NetworkPolicy"):
        meta["namespace"] = "x"
    return RawObject({"apiVersion": api, "kind": kind, "metadata": meta, **rest},
                     Origin("api"))


def _agent(netns: str, tmp_path: Path, binary: str = "nft") -> Agent:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                          "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                          "users: [{name: u, user: {token: t}}]\n"
                          "contexts: [{name: c, context: {cluster: c, user: u}}]\n")
    options = AgentOptions(node="n1", table=TABLE, metrics_address=None, check_bridge=False)
    return Agent(options, load_cluster_config(kubeconfig=str(kubeconfig)),
                 log=Log(json_lines=True, stream=io.StringIO()),
                 runner=NftRunner(netns, binary=binary), health=Health())


def _listed() -> list[Listed]:
    now = time.monotonic()
    pod = _raw("Pod", "web", "2", spec={"nodeName": "n1", "containers": [{"name": "c"}]},
               status={"phase": "Running", "podIP": "10.0.0.1"})
    policy = _raw("NetworkPolicy", "deny", "3", spec={"podSelector": {}})
    objects: dict[str, tuple[RawObject, ...]] = {k: () for k in KIND_OF}
    objects.update({"Pod": (pod,), "NetworkPolicy": (policy,)})
    return [Listed(KIND_OF[k], objs, "3", False, now) for k, objs in objects.items()]


def _loaded(netns: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "table", "inet",
                           TABLE], capture_output=True, text=True, check=False)
    return done.stdout


def test_a_failed_first_load_is_tried_again(netns: str, tmp_path: Path) -> None:
    agent = _agent(netns, tmp_path, binary="/nonexistent/nft")
    agent.handle(_listed())
    assert not agent.synced and agent.dirty
    assert any("could not be loaded" in r for r in agent.health.not_ready())
    # Meanwhile another pod arrives; then nft is back.
    agent.handle([Changed(KIND_OF["Pod"], "ADDED", _raw(
        "Pod", "db", "4", spec={"nodeName": "n1", "containers": [{"name": "c"}]},
        status={"phase": "Running", "podIP": "10.0.0.2"}), "4", time.monotonic())])
    agent.runner = NftRunner(netns)
    agent._retry_at = 0.0
    agent._idle()
    assert agent.synced and not agent.dirty and agent.health.not_ready() == []
    table = _loaded(netns)
    assert "10.0.0.1 : jump" in table and "10.0.0.2 : jump" in table


def test_a_refused_transaction_is_repaired_by_a_whole_load(netns: str, tmp_path: Path) -> None:
    agent = _agent(netns, tmp_path)
    agent.handle(_listed())
    assert agent.synced
    # Someone deletes the map the next transaction changes: the kernel refuses it ...
    subprocess.run(["ip", "netns", "exec", netns, "nft", "flush", "chain", "inet", TABLE,
                    "ingress_check"], check=True)
    subprocess.run(["ip", "netns", "exec", netns, "nft", "delete", "map", "inet", TABLE,
                    "ingress_v4"], check=True)
    agent.handle([Changed(KIND_OF["Pod"], "ADDED", _raw(
        "Pod", "db", "4", spec={"nodeName": "n1", "containers": [{"name": "c"}]},
        status={"phase": "Running", "podIP": "10.0.0.2"}), "4", time.monotonic())])
    # ... and the agent loads the whole table instead.
    assert agent.metrics.transaction_failures.labels("incremental")._value.get() == 1
    table = _loaded(netns)
    assert "10.0.0.1 : jump" in table and "10.0.0.2 : jump" in table
    assert not agent.dirty


def test_cluster_policy_kinds_not_served_are_none_and_served_ones_enforced(
        netns: str, tmp_path: Path) -> None:
    agent = _agent(netns, tmp_path)
    cluster_kinds = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
    listed = [e for e in _listed() if e.kind.kind not in cluster_kinds]
    agent.handle(listed)
    assert not agent.synced
    assert any("AdminNetworkPolicy" in r for r in agent.health.not_ready())
    # The CRDs are not installed: 404 for each; the agent syncs without them, ready, and
    # does not count the API as unreachable.
    agent.handle([Trouble(KIND_OF[k], f"{k}: 404 Not Found", 1, 300.0, 404)
                  for k in cluster_kinds])
    assert agent.synced and agent.health.not_ready() == []
    assert agent.metrics.api_reachable._value.get() == 1
    assert "admin" not in _loaded(netns)
    # Installed later: its first list and an event arrive; the policy is in the kernel.
    anp = RawObject({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                     "kind": "AdminNetworkPolicy",
                     "metadata": {"name": "no-10-9", "resourceVersion": "5"},
                     "spec": {"priority": 3, "subject": {"namespaces": {}},
                              "egress": [{"name": "r", "action": "Deny",
                                          "to": [{"networks": ["10.9.0.0/16"]}]}]}},
                    Origin("api"))
    agent.handle([Listed(KIND_OF["AdminNetworkPolicy"], (), "4", True, time.monotonic()),
                  Changed(KIND_OF["AdminNetworkPolicy"], "ADDED", anp, "5", time.monotonic())])
    table = _loaded(netns)
    assert re.search(r"\tjump egress_admin_\d+\n", table), table
    assert re.search(r"vmap @egress_admin_\d+_v4", table), table
    assert "10.9.0.0/16 . tcp . 0-65535 : drop" in table, table
    assert agent.resync() == []
    agent.handle([Changed(KIND_OF["AdminNetworkPolicy"], "DELETED", anp, "6",
                          time.monotonic())])
    assert "admin" not in _loaded(netns) and agent.resync() == []
