"""Finding the kubeconfig and the context the way kubectl does, and the errors when absent.

No server is contacted here: these are the checks made before any connection.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from stockade.errors import InputError
from stockade.sources.cluster_config import load_cluster_config, merge_kubeconfigs

TWO = {
    "current-context": "a",
    "clusters": [{"name": "ca", "cluster": {"server": "https://a.example:6443",
                                            "certificate-authority": "pki/ca.crt"}},
                 {"name": "cb", "cluster": {"server": "https://b.example:6443"}}],
    "users": [{"name": "ua", "user": {"token": "x", "tokenFile": "tok"}}],
    "contexts": [{"name": "a", "context": {"cluster": "ca", "user": "ua"}},
                 {"name": "b", "context": {"cluster": "cb"}}],
}


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_explicit_file_current_context_and_context_flag(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", TWO)
    current = load_cluster_config(kubeconfig=str(path), environ={})
    assert (current.label, current.server) == ("context a", "https://a.example:6443")
    assert current.origin_name == "cluster a"
    chosen = load_cluster_config(kubeconfig=str(path), context="b", environ={})
    assert (chosen.label, chosen.server) == ("context b", "https://b.example:6443")
    # A context without a user talks anonymously, like kubectl, instead of crashing.
    assert chosen.single.user is not None and chosen.single.user.token is None


def test_relative_paths_resolve_against_their_own_file(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    merged = merge_kubeconfigs([write(sub / "kc", TWO)])
    assert merged["clusters"][0]["cluster"]["certificate-authority"] == \
        str(sub.resolve() / "pki/ca.crt")
    assert merged["users"][0]["user"]["tokenFile"] == str(sub.resolve() / "tok")


def test_kubeconfig_env_first_definition_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "one", {"clusters": [{"name": "ca", "cluster": {
        "server": "https://first.example"}}], "contexts": [], "users": []})
    second = write(tmp_path / "two", TWO)
    config = load_cluster_config(environ={"KUBECONFIG": f"{first}:{second}"})
    assert config.server == "https://first.example"  # cluster "ca" from the first file
    assert config.sources == (str(first), str(second))


def test_home_kube_config_is_the_fallback(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    write(tmp_path / ".kube" / "config", TWO)
    config = load_cluster_config(environ={"HOME": str(tmp_path)})
    assert config.label == "context a"


def test_missing_kubeconfig_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^kubeconfig /nonexistent/kc: no such file$"):
        load_cluster_config(kubeconfig="/nonexistent/kc", environ={})


def test_a_kubeconfig_that_is_a_pipe_is_named_as_one(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "kc")
    with pytest.raises(InputError, match=r"^kubeconfig .*/kc: not a regular file \(a pipe "
                       r"or <\(\.\.\.\) cannot be read as a kubeconfig: write it to a file\)$"):
        load_cluster_config(kubeconfig=str(tmp_path / "kc"), environ={})


def test_nothing_to_use(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_cluster_config(environ={"KUBECONFIG": str(tmp_path / "gone")},
                            service_account_dir=str(tmp_path))
    assert str(err.value) == (
        f"no kubeconfig found (looked for {tmp_path / 'gone'}) and not running inside a pod: "
        "pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account")


def test_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", TWO)
    with pytest.raises(InputError) as err:
        load_cluster_config(kubeconfig=str(path), context="prod", environ={})
    assert str(err.value) == f"kubeconfig {path}: --context 'prod' not found (contexts: a, b)"


def test_no_current_context(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", {**TWO, "current-context": ""})
    with pytest.raises(InputError) as err:
        load_cluster_config(kubeconfig=str(path), environ={})
    assert str(err.value) == (f"kubeconfig {path}: no current-context set; pass --context "
                              "NAME (contexts: a, b)")


def test_context_naming_an_undefined_user_or_cluster(tmp_path: Path) -> None:
    bad = {**TWO, "contexts": [{"name": "a", "context": {"cluster": "ca", "user": "ghost"}},
                               {"name": "b", "context": {"cluster": "gone"}}]}
    path = write(tmp_path / "kc", bad)
    with pytest.raises(InputError, match="context 'a' uses user 'ghost', which is not defined"):
        load_cluster_config(kubeconfig=str(path), environ={})
    with pytest.raises(InputError, match="context 'b' uses cluster 'gone', which is not"):
        load_cluster_config(kubeconfig=str(path), context="b", environ={})


def test_broken_yaml(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    path.write_text("clusters: [\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^kubeconfig {path}: invalid YAML"):
        load_cluster_config(kubeconfig=str(path), environ={})


def test_context_flag_without_kubeconfig_in_a_pod(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
           "HOME": str(tmp_path)}
    config = load_cluster_config(environ=env, service_account_dir=str(tmp_path))
    assert config.server == "https://10.96.0.1:443"
    assert config.origin_name == "cluster https://10.96.0.1:443"
    with pytest.raises(InputError, match="--context x: no kubeconfig found"):
        load_cluster_config(environ=env, context="x", service_account_dir=str(tmp_path))
