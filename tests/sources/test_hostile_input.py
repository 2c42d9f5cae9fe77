"""Hostile and careless input: every attack ends in one clear error (exit 2) or is read as
Kubernetes reads it, never in a traceback, a hang, unbounded memory or a silent gap.

The commands run in a real process where the operating system matters (devices, FIFOs,
process substitution, permissions, stdin), and in-process otherwise.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from matrix_doc import by_name
from stockade.cli.main import main
from stockade.errors import DocumentError, InputError
from stockade.model.build import build_cluster
from stockade.model.numbers import LongNumber
from stockade.sources import limits
from stockade.sources.files import parse_text, read_paths
from stockade.sources.limits import Budget
from stockade.sources.yaml_docs import documents, fast_documents

ROOT = Path(__file__).resolve().parents[2]
KONVOY = ROOT / "examples" / "konvoy"
# Every command that reads manifests, with the arguments it needs besides the input.
COMMANDS: list[list[str]] = [
    ["check"], ["matrix"], ["matrix", "--port", "80"], ["compile"],
    ["query", "--from", "default/db", "--to", "frontend/web", "--port", "80"], ["hosts"],
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def command(args: list[str], path: str) -> list[str]:
    """The command line with the input put where the command takes it."""
    return [args[0], path, *args[1:]]


def stockade(argv: Sequence[str], *, stdin: int | None = None, timeout: float = 60,
             prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "stockade", *argv], stdin=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=ROOT)


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\n"
       "spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}\n")


# --- nesting -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:3]))
def test_deep_nesting_is_refused_by_every_command(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str,
        args: list[str]) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text(deep_json(100_000))
    code, out, err = run(capsys, *command(args, str(path)))
    assert (code, out) == (2, "")
    assert f"{path}:1: nested more than {limits.MAX_DEPTH} levels deep" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("text", [
    deep_json(100_000),                                               # JSON on stdin
    "a: " + deep_json(5_000),                                         # YAML flow
    "a:\n" + "".join("  " * i + "k:\n" for i in range(1, 400)),         # YAML block mappings
    "a:\n" + "".join("  " * i + "-\n" for i in range(1, 400)),          # YAML block lists
])
def test_deep_nesting_on_stdin(capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, _, err = run(capsys, "matrix", "-")
    assert code == 2
    assert f"nested more than {limits.MAX_DEPTH} levels deep" in err


def test_nesting_at_the_limit_is_read_and_one_more_level_is_not() -> None:
    """The same limit on every path: JSON, the fast YAML reader and PyYAML."""
    inner = limits.MAX_DEPTH - 1  # the document itself is the first level
    for text in (f'{{"a": {deep_json(inner)}}}', f"a: {deep_json(inner)}\n",
                 f"!!map {{a: {deep_json(inner)}}}\n"):
        assert parse_text(text, "x")[0].data["a"] is not None
        with pytest.raises(InputError, match="nested more than"):
            parse_text(text.replace("[", "[[", 1).replace("]", "]]", 1), "x")


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(InputError, match="alias refers to its own"):
        parse_text("apiVersion: v1\nkind: Pod\nmetadata: &m {labels: [*m]}\n", "x.yaml")


def test_an_alias_bomb_is_refused_as_kubernetes_refuses_it() -> None:
    """A billion laughs, even in a field stockade does not read: Kubernetes' YAML decoder
    (go-yaml's CVE-2019-11253 fix) refuses the document, "excessive aliasing"; stockade
    stops as early, whatever the bomb would expand to in a field it does read."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = ("apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bomb\n  namespace: x\n"
            "  annotations:\n" + "".join(f"    {line}\n" for line in lines) +
            "spec: {containers: [{name: c}]}\n")
    with pytest.raises(DocumentError, match=r"^bomb.yaml:5: invalid YAML: document contains "
                       "excessive aliasing"):
        parse_text(text, "bomb.yaml")
    broken: list[DocumentError] = []
    assert [o.kind for o in parse_text(text, "bomb.yaml", broken=broken)] == ["Namespace"]
    assert len(broken) == 1


def test_what_aliases_add_counts_against_the_values_limit() -> None:
    """Each document may take go-yaml's share through aliases (99% when small); many such
    documents together are held to MAX_VALUES like any other values."""
    doc = ("kind: ConfigMap\nx: &m [" + ", ".join(["1"] * 1000) + "]\n"
           "y: [" + ", ".join(["*m"] * 50) + "]\n")
    assert len(parse_text(doc, "a.yaml")) == 1
    with pytest.raises(InputError, match=r"its YAML aliases stand for 500,500 more values.*"
                       r"MAX_VALUES"):
        parse_text("---\n".join([doc] * 10), "a.yaml", budget=Budget(max_values=400_000))


# --- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "expected"), [
    # go-yaml reads a number past 64 bits as a float64, which kubectl sends as 1e+23:
    # no integer field takes it. (Below 1e21 a whole float goes as its digits, an integer
    # out of int32's range, which stockade does not check for spec.replicas.)
    ("99999999999999999999999", 'spec.replicas: Invalid value: "number": must be of type '
                                "integer"),
    ("-1" + "8" * 22, 'spec.replicas: Invalid value: "number": must be of type '
                              "integer"),
    ("9e99", 'spec.replicas: Invalid value: "number": must be of type integer'),
])
def test_a_yaml_number_beyond_int64_is_read_as_kubectl_sends_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, written: str,
        expected: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w, namespace: a}\n"
                    f"spec:\n  replicas: {written}\n  selector: {{matchLabels: {{app: w}}}}\n"
                    "  template:\n    metadata: {labels: {app: w}}\n"
                    "    spec: {containers: [{name: c, image: i}]}\n")
    assert main(["check", str(path)]) == 2
    assert f"Deployment a/w: {expected}" in capsys.readouterr().err


@pytest.mark.parametrize(("field", "document", "yaml_problem"), [
    ("spec.ingress[0].ports[0].port", "networking.k8s.io/v1|NetworkPolicy|"
     "spec: {podSelector: {}, ingress: [{ports: [{port: N}]}]}",
     "must be no more than 15 characters"),  # a string port is a port name
    ("spec.ingress[0].ports[0].endPort", "networking.k8s.io/v1|NetworkPolicy|"
     "spec: {podSelector: {}, ingress: [{ports: [{port: 80, endPort: N}]}]}",
     "must be of type integer"),
    ("spec.containers[0].ports[0].containerPort", "v1|Pod|"
     "spec: {containers: [{name: c, ports: [{containerPort: N}]}]}",
     "must be of type integer"),
])
@pytest.mark.parametrize("form", ["yaml", "yaml-slow", "json"])
def test_integers_longer_than_python_converts(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, document: str,
        *, yaml_problem: str, form: str) -> None:
    """In JSON a 5000-digit number is a number, out of every range; in YAML it is a string
    (go-yaml v2 has no big integers, and a float64 cannot hold it), as ``kubectl`` sends
    it. Either way a validation error, not a traceback."""
    version, kind, spec = document.split("|")
    digits = "9" * 5000
    text = (f"apiVersion: {version}\nkind: {kind}\nmetadata: {{name: x, namespace: a}}\n"
            f"{spec.replace('N', digits)}\n")
    if form == "yaml-slow":  # a tag sends the stream to PyYAML
        text = text.replace("metadata:", "metadata: !!map", 1)
    path = tmp_path / ("x.json" if form == "json" else "x.yaml")
    if form == "json":
        import yaml

        data = yaml.safe_load(text.replace(digits, "1"))
        path.write_text(json.dumps(data).replace(": 1}", f": {digits}}}"))
    else:
        path.write_text(text)
    code, _, err = run(capsys, "check", str(path))
    assert code == 2
    if form == "json":
        assert f"{field}: Invalid value: <5000-digit number>: must be between 1 and 65535" in err
    else:
        assert f'{field}: Invalid value: "{digits}": {yaml_problem}' in err


def test_long_number_keeps_sign_and_length() -> None:
    number = LongNumber("-" + "1" * 6000)
    assert (str(number), number < -65535) == ("-<6000-digit number>", True)


def test_long_hexadecimal_integers_never_reach_str() -> None:
    """An explicit ``!!int`` beyond 64 bits is an error, as go-yaml v2's ``resolve`` fails
    on it (plain, go-yaml reads it as a string)."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: !!int 0x" + "f" * 5000
            + ", namespace: a}\nspec: {containers: []}\n")
    with pytest.raises(InputError, match=r"^hex.yaml:3: invalid YAML: cannot decode !!str "
                       r"`0xfff+` as a !!int$"):
        parse_text(text, "hex.yaml")
    plain = parse_text(text.replace("!!int ", ""), "hex.yaml")
    assert plain[0].data["metadata"]["name"] == "0x" + "f" * 5000


# --- size ----------------------------------------------------------------------------------

def test_too_many_documents_are_refused_before_they_are_parsed() -> None:
    budget = Budget(max_objects=1000)
    text = "---\na: 1\n" * 1001
    with pytest.raises(InputError, match=r"x.yaml: too many objects: stockade reads at most "
                       r"1,000 documents and List items in one run \(MAX_OBJECTS"):
        parse_text(text, "x.yaml", budget=budget)


def test_too_many_list_items_and_values() -> None:
    items = "apiVersion: v1\nkind: List\nitems:\n" + "- {kind: ConfigMap}\n" * 50
    with pytest.raises(InputError, match="too many objects"):
        parse_text(items, "l.yaml", budget=Budget(max_objects=40))
    with pytest.raises(InputError, match=r"too large: about 153 values .* \(MAX_VALUES"):
        parse_text(items, "l.yaml", budget=Budget(max_values=100))
    with pytest.raises(InputError, match="too many objects"):
        parse_text(json.dumps([{"kind": "ConfigMap"}] * 50), "l.json",
                   budget=Budget(max_objects=40))


def test_the_limits_count_across_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(POD)
    size = len(POD.encode())
    assert len(read_paths([str(tmp_path)], budget=Budget(max_bytes=2 * size))) == 2
    with pytest.raises(InputError, match=rf"{tmp_path}: too large: {2 * size:,} bytes in 2 "
                       r"files; stockade reads at most "):
        read_paths([str(tmp_path)], budget=Budget(max_bytes=2 * size - 1))


def test_stdin_is_counted_as_it_is_read(tmp_path: Path) -> None:
    """Files' sizes on disk are added up before reading (the file alone fits); stdin only
    as it is read (then the file no longer fits)."""
    (tmp_path / "a.yaml").write_text(POD)
    size = len(POD.encode())
    budget = Budget(max_bytes=2 * size - 1)
    with pytest.raises(InputError, match=r"a.yaml: too large: stockade reads at most "):
        read_paths(["-", str(tmp_path / "a.yaml")], io.StringIO(POD), budget=budget)
    assert len(read_paths(["-", str(tmp_path / "a.yaml")], io.StringIO(POD),
                          budget=Budget(max_bytes=2 * size))) == 2


@pytest.mark.parametrize("layout", ["one file", "directory"])
def test_files_over_the_limit_on_disk_are_refused_before_reading(tmp_path: Path,
                                                                 layout: str) -> None:
    """A raw ``kubectl get -o yaml`` of 150,000 pods (1.2 GB) used to be read for minutes
    before MAX_VALUES stopped it: files whose sizes already exceed MAX_INPUT_BYTES are
    refused before a byte is read (sparse files here: reading them would stop at their
    first NUL byte instead)."""
    over = limits.MAX_INPUT_BYTES + 1
    if layout == "one file":
        named = tmp_path / "dump.yaml"
        sizes = [over]
        with named.open("w") as fh:
            fh.truncate(over)
    else:
        named = tmp_path / "dump"
        named.mkdir()
        sizes = [over // 2, over - over // 2, len(POD.encode())]
        for name, size in zip(("a.yaml", "b.yaml"), sizes, strict=False):
            with (named / name).open("w") as fh:
                fh.truncate(size)
        (named / "c.yaml").write_text(POD)
    for command in COMMANDS:
        done = stockade([*command, str(named)], timeout=60)
        assert done.returncode == 2, done.stderr
        files = f"{len(sizes)} file{'' if len(sizes) == 1 else 's'}"
        assert done.stderr == (
            f"stockade: error: {named}: too large: {sum(sizes) // 2**20} MiB in {files}; "
            "stockade reads at most 1024 MiB of manifests in one run (MAX_INPUT_BYTES in "
            "stockade.sources.limits); for a cluster this large, read it with `stockade "
            "snapshot`, which leaves out managedFields and status, or strip them before\n")


def test_the_benchmark_cluster_fits_the_limits_with_room() -> None:
    """Measured on ``benchmarks/generate.py DIR --pods 150000 --namespaces 5000 --policies
    50000``: 116 MB of YAML, 205,000 documents, 7.0 million values; with ``--workloads
    --format json``, one kubectl-style List of 574 MB, 296,246 items, 21.7 million values."""
    assert limits.MAX_INPUT_BYTES >= 1.8 * 574 * 10**6
    assert limits.MAX_OBJECTS >= 1.6 * 296_246
    assert limits.MAX_VALUES >= 2 * 21_700_000


def test_millions_of_small_documents_are_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    with path.open("w") as fh:
        for i in range(limits.MAX_OBJECTS + 1):
            fh.write(f"---\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n")
    done = stockade(["check", str(path)], timeout=120)
    assert done.returncode == 2
    assert "too many objects" in done.stderr and "MAX_OBJECTS" in done.stderr


# --- files that are not files ----------------------------------------------------------------

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_as_manifests(device: str) -> None:
    done = stockade(["check", device], timeout=30)
    assert done.returncode == 2
    assert f"{device}: a character device, not a regular file" in done.stderr


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_on_stdin_stop_at_the_first_nul(device: str) -> None:
    with open(device, "rb") as fh:
        done = stockade(["matrix", "-"], stdin=fh.fileno(), timeout=30)
    assert done.returncode == 2
    assert "binary data (a NUL byte" in done.stderr


def test_an_endless_stdin_stops_at_the_limit() -> None:
    """``yes | stockade check -``: text without end is refused at MAX_INPUT_BYTES, not read
    until memory runs out (a small limit through the library, the real one in a process)."""
    endless = subprocess.Popen(["yes", "a: b"], stdout=subprocess.PIPE)
    assert endless.stdout is not None
    try:
        done = stockade(["check", "-"], stdin=endless.stdout.fileno(), timeout=120)
    finally:
        endless.kill()
        endless.wait()
        endless.stdout.close()
    assert done.returncode == 2
    assert "<stdin>: too large: stockade reads at most 1024 MiB" in done.stderr


@pytest.mark.parametrize("where", ["argument", "directory", "node-hosts"])
def test_a_fifo_is_refused_not_waited_for(tmp_path: Path, where: str) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    argv = {"argument": ["check", str(fifo)], "directory": ["check", str(tmp_path)],
            "node-hosts": ["hosts", "examples/hostaliases/hostaliases-hostnetwork-pod.yaml",
                           "--node-hosts", str(fifo)]}[where]
    done = stockade(argv, timeout=30)
    assert done.returncode == 2
    assert f"{fifo}" in done.stderr and "a named pipe (FIFO), not a regular file" in done.stderr


def test_node_hosts_from_a_device_is_refused() -> None:
    done = stockade(["hosts", "examples/hostaliases/hostaliases-hostnetwork-pod.yaml",
                     "--node-hosts", "/dev/zero"], timeout=30)
    assert done.returncode == 2
    assert "/dev/zero (the node's hosts file" in done.stderr


def test_process_substitution_and_dev_stdin_are_read() -> None:
    """``stockade check <(cat a) <(cat b)`` as bash runs it: /dev/fd/N pipes."""
    script = (f'{sys.executable} -m stockade check <(cat {KONVOY}/pods.yaml) '
              f'<(cat {KONVOY}/namespaces.yaml) && '
              f'{sys.executable} -m stockade check /dev/stdin < {KONVOY}/policy.yaml')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["valid: 6 Pods, 4 Namespaces", "valid: 1 NetworkPolicy"]


# --- directories ---------------------------------------------------------------------------

def _without_root_privileges() -> list[str]:
    """As root, drop the capabilities that read anything, so that permissions apply; the
    files stay root's, so the process still reads what its owner may."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def test_an_unreadable_subdirectory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "pod.yaml").write_text(POD)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "policy.yaml").write_text((KONVOY / "policy.yaml").read_text())
    locked.chmod(0)
    try:
        done = stockade(["check", str(tmp_path)], prefix=_without_root_privileges())
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2, done.stdout
    assert f"{locked}: cannot read directory: Permission denied" in done.stderr


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(POD)
    path.chmod(0)
    done = stockade(["check", str(tmp_path)], prefix=_without_root_privileges())
    assert done.returncode == 2
    assert f"{path}: cannot read: Permission denied" in done.stderr


@pytest.mark.parametrize(("links", "message"), [
    ({"dangling.yaml": "nowhere.yaml"}, "dangling.yaml: a dangling symbolic link"),
    ({"dangling": "gone"}, "dangling: a dangling symbolic link"),
    ({"loop1.yaml": "loop2.yaml", "loop2.yaml": "loop1.yaml"}, "a symbolic link loop"),
    ({"sub/up": ".."}, "sub/up: a symbolic link loop (it leads back to a directory"),
])
def test_broken_symbolic_links_inside_a_directory_are_errors(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, links: dict[str, str],
        message: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "policy.yaml").write_text((KONVOY / "policy.yaml").read_text())
    for name, target in links.items():
        (tmp_path / name).symlink_to(target)
    code, out, err = run(capsys, "check", str(tmp_path))
    assert (code, out) == (2, "")
    assert message in err


def test_symbolic_links_that_work_are_followed(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    (tmp_path / "notes.txt").symlink_to("nowhere")  # not a manifest's name: never read
    (tmp_path / "linked").symlink_to(KONVOY)
    code, out, _ = run(capsys, "check", str(tmp_path))
    assert (code, out) == (0, "valid: 1 NetworkPolicy, 6 Pods, 4 Namespaces\n")


# --- duplicate keys: read as kubectl reads them, in test_repeated_keys.py -----------------


def test_timestamps_stay_strings_on_both_readers() -> None:
    """go-yaml leaves a timestamp in an untyped value a string; so must both readers."""
    text = "kind: Pod\nmetadata: {name: 2001-12-14}\n"
    assert documents(text)[0][0]["metadata"]["name"] == "2001-12-14"
    slow = text.replace("kind: Pod", "kind: !!str Pod")  # a tag: PyYAML reads it
    assert fast_documents(slow) is None
    assert documents(slow)[0][0]["metadata"]["name"] == "2001-12-14"


# --- encodings and shapes ------------------------------------------------------------------

def test_not_utf8_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\xe9}\n")
    code, _, err = run(capsys, "check", str(path))
    assert code == 2
    assert err == f"stockade: error: {path}: not UTF-8 at line 3 (Kubernetes manifests are " \
        "UTF-8 text)\n"


def test_not_utf8_after_a_byte_order_mark_names_the_line(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    """The UTF-8 byte-order mark is dropped, and the line counted as in the file."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfapiVersion: v1\nkind: Namespace\n\xe9metadata: {name: a}\n")
    code, _, err = run(capsys, "check", str(path))
    assert code == 2
    assert err == f"stockade: error: {path}: not UTF-8 at line 3 (Kubernetes manifests are " \
        "UTF-8 text)\n"
    path.write_bytes(b"\xef\xbb\xbfapiVersion: v1\nkind: Namespace\nmetadata: {name: cafe}\n")
    assert run(capsys, "check", str(path))[0] == 0


def test_utf16_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "u16.yaml"
    path.write_bytes("kind: Namespace\n".encode("utf-16"))
    code, _, err = run(capsys, "check", str(path))
    assert code == 2
    assert "the file starts with a UTF-16 byte-order mark; save it as UTF-8" in err


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_utf8_byte_order_mark_is_accepted(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bom{suffix}"
    text = ('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}'
            if suffix == ".json"
            else "apiVersion: v1\r\nkind: Namespace\r\nmetadata: {name: a}\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    code, out, _ = run(capsys, "check", str(path))
    assert (code, out) == (0, "valid: 1 Namespace\n")


@pytest.mark.parametrize(("text", "message"), [
    ("hello\n", "a manifest must be an object with apiVersion and kind, not a string"),
    ("42\n", "not an integer"),
    ("- a\n", "not an array"),
    ("kind: PodList\napiVersion: v1\nitems: [1]\n", "PodList items[0]: must be an object, "
     "not an integer"),
])
def test_documents_of_the_wrong_type_are_named_in_kubernetes_words(text: str,
                                                                   message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_text(text, "x.yaml")


# --- typed lists ---------------------------------------------------------------------------

LIST_ITEMS = {
    "NamespaceList": ("v1", "{metadata: {name: team}}"),
    "PodList": ("v1", "{metadata: {name: p, namespace: team}, spec: {containers: [{name: c}]}, "
                "status: {podIP: 10.0.0.1}}"),
    "NetworkPolicyList": ("networking.k8s.io/v1",
                          "{metadata: {name: deny, namespace: team}, spec: {podSelector: {}}}"),
    "ServiceList": ("v1", "{metadata: {name: s, namespace: team}, spec: {selector: {a: b}, "
                    "ports: [{port: 80}]}}"),
    **{f"{kind}List": (version, "{metadata: {name: w, namespace: team}, spec: {selector: "
                       "{matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: "
                       "{containers: [{name: c}]}}" + manual + "}}")
       for kind, version, manual in [
           ("Deployment", "apps/v1", ""), ("ReplicaSet", "apps/v1", ""),
           ("StatefulSet", "apps/v1", ""), ("DaemonSet", "apps/v1", ""),
           # a Job's own selector is its only with manualSelector (else not auto-generated)
           ("Job", "batch/v1", ", manualSelector: true")]},
    "CronJobList": ("batch/v1", "{metadata: {name: w, namespace: team}, spec: {jobTemplate: "
                    "{spec: {template: {metadata: {labels: {a: b}}, spec: {containers: "
                    "[{name: c}]}}}}}}"),
    "NodeList": ("v1", "{metadata: {name: n1}, status: {addresses: [{type: InternalIP, "
                 "address: 10.1.0.1}]}}"),
    "ReplicationControllerList": ("v1", "{metadata: {name: w, namespace: team}, spec: "
                                  "{selector: {a: b}, template: {metadata: {labels: {a: b}}, "
                                  "spec: {containers: [{name: c}]}}}}"),
}


@pytest.mark.parametrize("list_kind", sorted(LIST_ITEMS))
def test_typed_list_items_take_the_lists_kind_and_api_version(list_kind: str) -> None:
    version, item = LIST_ITEMS[list_kind]
    text = (f"apiVersion: {version}\nkind: {list_kind}\nmetadata: {{resourceVersion: '42'}}\n"
            f"items:\n- {item}\n")
    (raw,) = parse_text(text, "list.yaml")
    assert (raw.kind, raw.api_version, raw.origin.line) == (
        list_kind.removesuffix("List"), version, 5)
    result = build_cluster([raw])
    assert result.findings == []
    assert not result.skipped


def test_a_raw_api_list_response(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """What ``GET /api/v1/pods`` returns, as JSON: kind and apiVersion on the list only."""
    response = {
        "kind": "PodList", "apiVersion": "v1",
        "metadata": {"resourceVersion": "8841", "continue": ""},
        "items": [
            {"metadata": {"name": n, "namespace": "default", "uid": f"u-{n}",
                          "resourceVersion": "17", "creationTimestamp": "2024-01-01T00:00:00Z",
                          "labels": {"app": n}},
             "spec": {"containers": [{"name": "c", "image": "nginx"}], "nodeName": "n1"},
             "status": {"phase": "Running", "podIP": f"10.0.0.{i}",
                        "podIPs": [{"ip": f"10.0.0.{i}"}], "hostIP": "192.168.0.1"}}
            for i, n in enumerate(["a", "b"], start=1)],
    }
    path = tmp_path / "pods.json"
    path.write_text(json.dumps(response))
    code, out, _ = run(capsys, "matrix", str(path), "--pods", "-o", "json")
    assert code == 0
    assert set(by_name(json.loads(out))[1]) == {"default/a", "default/b"}


def test_an_item_of_another_kind_is_an_error_naming_both() -> None:
    text = ("apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n"
            "- kind: Service\n  apiVersion: v1\n  metadata: {name: s}\n")
    with pytest.raises(DocumentError) as caught:
        parse_text(text, "l.yaml")
    assert str(caught.value) == ("l.yaml:5: PodList items[1]: kind 'Service' in a list of Pod "
                                 "(a PodList holds only Pod objects)")


def test_lists_inside_lists_are_flattened_as_kubectl_flattens_them() -> None:
    """kubectl's FlattenListVisitor reads a List whose items are Lists (typed or not) down
    to the objects; none may be skipped as a kind stockade does not read."""
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- apiVersion: v1\n  kind: PodList\n  items:\n"
            "  - {metadata: {name: p}, spec: {containers: [{name: c}]}}\n"
            "- apiVersion: v1\n  kind: List\n  items:\n"
            "  - {apiVersion: v1, kind: Namespace, metadata: {name: inner}}\n")
    objects = parse_text(text, "l.yaml")
    assert [(o.kind, o.api_version) for o in objects] == [("Pod", "v1"), ("Namespace", "v1")]
    assert [o.origin.line for o in objects] == [7, 11]


def test_an_item_with_only_an_api_version_is_left_as_upstream_leaves_it() -> None:
    (raw,) = parse_text("apiVersion: v1\nkind: PodList\nitems:\n- apiVersion: v1\n", "l.yaml")
    assert raw.kind == ""


# --- empty input ---------------------------------------------------------------------------

def test_an_empty_directory_or_file_is_no_objects(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    code, out, err = run(capsys, "matrix", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"stockade: error: no objects in {tmp_path}: nothing to analyse\n"


# --- --skip-invalid and broken documents ----------------------------------------------------

BROKEN_STREAM = (
    (KONVOY / "namespaces.yaml").read_text() + "---\napiVersion: v1\nkind: Pod\n"
    "metadata: {name: broken\n  bad: [\n---\n" + (KONVOY / "pods.yaml").read_text()
    + "---\n" + (KONVOY / "policy.yaml").read_text())
BROKEN_LINE = BROKEN_STREAM.splitlines().index("  bad: [") + 1


def test_skip_invalid_analyses_every_document_that_parses(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(BROKEN_STREAM))
    code, out, err = run(capsys, "matrix", "-", "--skip-invalid", "--pods", "-o", "json")
    assert code == 0
    assert len(json.loads(out)["matrix"]) == 6
    assert (f"warning: skipping a document that cannot be read: <stdin>:{BROKEN_LINE}: "
            "invalid YAML: ") in err
    _, expected, _ = run(capsys, "matrix", str(KONVOY), "--pods", "-o", "json")
    assert out == expected


def test_without_skip_invalid_a_broken_document_refuses_the_input(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(BROKEN_STREAM))
    code, out, err = run(capsys, "matrix", "-")
    assert (code, out) == (2, "")
    assert err.startswith(f"stockade: error: <stdin>:{BROKEN_LINE}: invalid YAML: ")


def test_check_reports_broken_documents_with_every_other_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BROKEN_STREAM.replace("containerPort: 6379", "containerPort: 0"))
    code, out, err = run(capsys, "check", str(path), "-o", "json")
    doc = json.loads(out)
    assert code == 2
    first = doc["errors"][0]
    assert (first["line"], first["type"]) == (BROKEN_LINE, "Unreadable document")
    code, _, err = run(capsys, "check", str(path))
    assert err.splitlines()[0].startswith(f"error: {path}:{BROKEN_LINE}: invalid YAML: ")
    assert err.splitlines()[-1].startswith("1 document that cannot be read")


def test_broken_documents_are_found_in_large_streams() -> None:
    """A stream longer than one parsing chunk: the broken document is found by itself."""
    good = (KONVOY / "pods.yaml").read_text()
    copies = limits.YAML_CHUNK_BYTES // len(good) + 2
    docs = [good.replace("name: ", f"name: c{i}-", 1) for i in range(copies)]
    docs[copies // 2] = "a: [\n"
    broken: list[DocumentError] = []
    objects = parse_text("---\n".join(docs), "big.yaml", broken=broken)
    assert len(broken) == 1 and "invalid YAML" in str(broken[0])
    assert len(objects) == (copies - 1) * good.count("kind: Pod")


# --- JSON streams ------------------------------------------------------------------------

JSON_STREAM = ('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}\n'
               '{\n  "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}\n}\n'
               ' {"apiVersion": "v1", "kind": "List", "items": []}')


@pytest.mark.parametrize("name", ["s.json", "s.yaml", "<stdin>"])
def test_a_stream_of_json_objects_is_read_as_kubectl_reads_it(name: str) -> None:
    """kubectl decodes input that starts with ``{`` as a stream of JSON values, as
    ``jq '.items[]'`` or several ``kubectl get -o json`` write it."""
    objects = parse_text(JSON_STREAM, name, json_hint=name.endswith(".json"))
    assert [(o.data["metadata"]["name"], o.origin.line) for o in objects] == [("a", 1),
                                                                               ("b", 2)]


def test_a_broken_value_in_a_json_stream_is_named_and_the_others_kept() -> None:
    broken: list[DocumentError] = []
    text = JSON_STREAM.replace('"b"', '"b",')
    objects = parse_text(text, "s.json", json_hint=True, broken=broken)
    assert [o.data["metadata"]["name"] for o in objects] == ["a"]
    assert [str(e) for e in broken] == [
        "s.json:3: invalid JSON: Expecting property name enclosed in double quotes"]
