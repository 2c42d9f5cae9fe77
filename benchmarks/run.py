"""The scale benchmark: generate clusters, time stockade and network-config-analyzer, check.

One command for issue 5's table: for each size it writes a generated cluster, runs
``stockade matrix DIR -o json`` as a separate process (wall time, peak RSS), checks sampled
pod pairs of its answer against the pair-by-pair reference evaluator, and on the small sizes
runs the peer tool on the same files, installed into its own virtual environment.
Run from the repository root: ``.venv/bin/python -m benchmarks.run``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import random
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from benchmarks.generate import Params, default_params, generate, write
from benchmarks.reference import ReferenceCluster

HERE = Path(__file__).resolve().parent
NCA_VERSION = "2.1.0"
NCA_PACKAGE = "network-config-analyzer"
DEFAULT_SIZES = "100,300,700,1000,10000,50000"
DEFAULT_NCA_SIZES = "100,300,700"

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


class CheckError(Exception):
    """stockade's answer is malformed or disagrees with the reference."""


# --- running a tool ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Measurement:
    """One child process: exit code (None when killed at the time limit), wall, peak RSS."""

    returncode: int | None
    wall_s: float
    peak_mib: float
    stderr_tail: str
    cpu_s: float = 0.0  # user and system CPU of the child: steadier than wall on a busy box

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True, slots=True)
class Finished:
    """A child process run to its end: exit code (None: killed at the time limit), wall
    seconds, its rusage from ``wait4`` and its stderr."""

    returncode: int | None
    wall_s: float
    usage: resource.struct_rusage
    stderr: str


def spawn(cmd: Sequence[str], stdout_path: Path | None, timeout_s: float,
          env: Mapping[str, str] | None = None,
          watch: Callable[[int], AbstractContextManager[object]] | None = None) -> Finished:
    """Run ``cmd`` in a session of its own with stdout to a file (or discarded), killed
    with its whole session after ``timeout_s``; ``watch(pid)`` is entered while it runs
    (a memory sampler, say). ``env``: the whole environment, or None for this one's."""
    killed = threading.Event()
    out_ctx = open(stdout_path, "wb") if stdout_path else open(os.devnull, "wb")  # noqa: SIM115
    with out_ctx as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=dict(env) if env else None)

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            with watch(proc.pid) if watch else contextlib.nullcontext():
                _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return Finished(None if killed.is_set() else proc.returncode, wall, usage, text)


def measure(cmd: Sequence[str], stdout_path: Path, timeout_s: float,
            env: Mapping[str, str] | None = None) -> Measurement:
    """Run ``cmd`` with stdout to a file; its own peak RSS comes from ``wait4``'s rusage,
    which counts this child (and its waited-for descendants) only."""
    done = spawn(cmd, stdout_path, timeout_s, env)
    return Measurement(done.returncode, done.wall_s, done.usage.ru_maxrss / 1024,
                       done.stderr[-4000:], done.usage.ru_utime + done.usage.ru_stime)


SHORT_RUN_S = 2.0  # runs shorter than this are repeated: start-up jitter is a large share
REPEATS = 5


def measure_median(cmd: Sequence[str], stdout_path: Path, timeout_s: float) -> Measurement:
    """``measure``, repeated ``REPEATS`` times when a run takes under ``SHORT_RUN_S``: the
    run of median wall time is reported (its peak memory with it)."""
    first = measure(cmd, stdout_path, timeout_s)
    if not first.ok or first.wall_s >= SHORT_RUN_S:
        return first
    runs = [first, *(measure(cmd, stdout_path, timeout_s) for _ in range(REPEATS - 1))]
    if not all(r.ok for r in runs):
        return next(r for r in runs if not r.ok)
    return sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]


def stockade_command(prefix: str, directory: Path) -> list[str]:
    # The command users type: the installed ``stockade`` next to this Python, if any.
    script = Path(sys.executable).with_name("stockade")
    default = [str(script)] if script.exists() else [sys.executable, "-m", "stockade"]
    base = shlex.split(prefix) if prefix else default
    return [*base, "matrix", str(directory), "-o", "json"]


def ensure_nca(venv: Path) -> Path:
    """The ``nca`` executable of network-config-analyzer 2.1.0 in its own venv."""
    python = venv / "bin" / "python"
    nca = venv / "bin" / "nca"
    probe = [str(python), "-c",
             f"import importlib.metadata as m; print(m.version({NCA_PACKAGE!r}))"]
    if nca.exists():
        found = subprocess.run(probe, capture_output=True, text=True, check=False)
        if found.stdout.strip() == NCA_VERSION:
            return nca
    print(f"installing {NCA_PACKAGE} {NCA_VERSION} into {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"{NCA_PACKAGE}=={NCA_VERSION}"], check=True)
    return nca


def nca_command(nca: Path, directory: Path) -> list[str]:
    # -r reads namespaces, pods and policies from one directory (recursively);
    # --connectivity without a value analyses every policy found there.
    return [str(nca), "--connectivity", "-r", str(directory), "-o", "txt_no_fw_rules"]


# --- checking stockade's answer ----------------------------------------------------------

@dataclass(slots=True)
class Matrix:
    """stockade's grouped JSON answer (or the rows of it that were read), indexed for pair
    look-ups: groups by position, each read row as its ``"*"`` text and listed cells."""

    group_of: dict[str, int]  # pod -> its group's position
    names: list[str] = field(default_factory=list)
    cells: dict[int, dict[int, str]] = field(default_factory=dict)  # rows read: dst -> text
    default: dict[int, str] = field(default_factory=dict)  # rows read: their "*" text
    node_traffic: set[tuple[str, str]] = field(default_factory=set)

    def connections(self, src: str, dst: str) -> str:
        """The text for two distinct pods: node traffic is ``all``; else the group cell,
        the row's ``"*"`` text when the row does not list the destination group."""
        if (src, dst) in self.node_traffic:
            return "all"
        g_src, g_dst = self.group_of[src], self.group_of[dst]
        if g_src not in self.default:
            raise CheckError(f"stockade JSON: the row of {self.names[g_src]!r} was not read")
        return self.cells[g_src].get(g_dst, self.default[g_src])


def _groups(groups: object) -> tuple[list[str], dict[str, int]]:
    if not isinstance(groups, list):
        raise CheckError('stockade JSON: "groups" is not a list')
    names: list[str] = []
    group_of: dict[str, int] = {}
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or not isinstance(group.get("name"), str) \
                or not isinstance(group.get("pods"), list):
            raise CheckError(f"stockade JSON: groups[{i}] is not {{name, pods}}")
        names.append(group["name"])
        for pod in group["pods"]:
            if pod in group_of:
                raise CheckError(f"stockade JSON: pod {pod} is in groups "
                                 f"{names[group_of[pod]]!r} and {group['name']!r}")
            group_of[str(pod)] = i
    return names, group_of


def _add_row(matrix: Matrix, src: int, row: object) -> None:
    """Index one row (an object; a reference to an earlier row is resolved by the caller)."""
    where = f"matrix[{src}] ({matrix.names[src]!r})"
    if not isinstance(row, dict) or not isinstance(row.get("*"), str):
        raise CheckError(f'stockade JSON: {where} is not an object with a "*" text')
    cells: dict[int, str] = {}
    for text, dsts in row.items():
        if text == "*":
            continue
        if not isinstance(dsts, list):
            raise CheckError(f"stockade JSON: {where}[{text!r}] is not a list")
        for dst in dsts:
            if not isinstance(dst, int) or not 0 <= dst < len(matrix.names):
                raise CheckError(f"stockade JSON: {where}[{text!r}] names unknown group "
                                 f"{dst!r}")
            if dst in cells:
                raise CheckError(f"stockade JSON: {where} -> {dst} has two answers: "
                                 f"{cells[dst]!r} and {text!r}")
            cells[dst] = text
    matrix.cells[src] = cells
    matrix.default[src] = row["*"]


def _add_node_traffic(matrix: Matrix, node_traffic: object) -> None:
    if not isinstance(node_traffic, dict):
        raise CheckError('stockade JSON: "node_traffic" is not an object')
    for host, peers in node_traffic.items():
        for peer in peers:
            matrix.node_traffic.update({(host, peer), (peer, host)})


def _resolve(rows: Sequence[object], i: int) -> object:
    """Row ``i``, following a reference to an earlier identical row."""
    row = rows[i]
    if isinstance(row, int) and not isinstance(row, bool):
        if not 0 <= row < i or isinstance(rows[row], int):
            raise CheckError(f"stockade JSON: matrix[{i}] refers to row {row}, which is not "
                             "an earlier written row")
        return rows[row]
    return row


def read_matrix(data: object) -> Matrix:
    """Validate the whole of ``{"groups": [...], "matrix": [...]}`` and index it."""
    if not isinstance(data, dict) or "groups" not in data \
            or not isinstance(data.get("matrix"), list):
        raise CheckError('stockade JSON: expected an object with "groups" and "matrix"')
    names, group_of = _groups(data["groups"])
    matrix = Matrix(group_of, names)
    rows = data["matrix"]
    if len(rows) != len(names):
        raise CheckError(f"stockade JSON: {len(rows)} rows for {len(names)} groups")
    for i in range(len(rows)):
        _add_row(matrix, i, _resolve(rows, i))
    _add_node_traffic(matrix, data.get("node_traffic", {}))
    return matrix


def read_matrix_rows(path: Path, sources: Iterable[str]) -> Matrix:
    """The rows of the groups of ``sources`` (pods) only, read from the answer's file a line
    at a time, as stockade lays it out (one group, one row per line), so that an answer of
    many gigabytes is checked in bounded memory."""
    with open(path, "rb") as fh:
        if fh.readline() != b'{"groups": [\n':
            raise CheckError('stockade JSON: the file does not start with {"groups": [')
        groups: list[object] = []
        for line in fh:
            if line == b"],\n":
                break
            groups.append(json.loads(line.rstrip(b",\n")))
        names, group_of = _groups(groups)
        matrix = Matrix(group_of, names)
        if fh.readline() != b'"matrix": [\n':
            raise CheckError('stockade JSON: "matrix": [ does not follow the groups')
        offsets: list[int] = []
        at = fh.tell()
        for line in fh:
            if line.startswith(b"]"):
                tail = line[1:] + fh.read()
                break
            offsets.append(at)
            at += len(line)
        else:
            raise CheckError("stockade JSON: the matrix does not end")
        if len(offsets) != len(names):
            raise CheckError(f"stockade JSON: {len(offsets)} rows for {len(names)} groups")

        def row(i: int) -> object:
            fh.seek(offsets[i])
            return json.loads(fh.readline().rstrip(b",\n"))

        for src in sorted({group_of[pod] for pod in sources if pod in group_of}):
            found = row(src)
            if isinstance(found, int) and not isinstance(found, bool):
                if not 0 <= found < src:
                    raise CheckError(f"stockade JSON: matrix[{src}] refers to row {found}, "
                                     "which is not an earlier row")
                found = row(found)
            _add_row(matrix, src, found)
    rest = json.loads(b"{" + tail.strip().lstrip(b",")) if tail.strip() != b"}" else {}
    _add_node_traffic(matrix, rest.get("node_traffic", {}))
    return matrix


def sample_pairs(ref: ReferenceCluster, count: int, seed: int) -> list[tuple[str, str]]:
    """Random ordered pairs of distinct pods; a tenth of them involve the rare pods
    (hostNetwork, no IP, IPv6 primary) that uniform sampling would seldom pick."""
    rng = random.Random(seed)
    keys = sorted(ref.pods)
    if len(keys) < 2:
        return []
    rare = [k for k in keys if ref.pods[k].host_network or not ref.pods[k].ips
            or ref.pods[k].ips[0].version == 6]
    pairs: list[tuple[str, str]] = []
    for i in range(count):
        src, dst = rng.sample(keys, 2)
        if rare and i % 10 == 0:
            special = rng.choice(rare)
            src, dst = (special, dst) if rng.random() < 0.5 else (src, special)
            if src == dst:
                continue
        pairs.append((src, dst))
    return pairs


def check(ref: ReferenceCluster, matrix: Matrix, pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Every difference between stockade and the reference, as readable lines."""
    problems: list[str] = []
    missing = sorted(set(ref.pods) - set(matrix.group_of))
    extra = sorted(set(matrix.group_of) - set(ref.pods))
    if missing:
        problems.append(f"{len(missing)} pod(s) in no group, e.g. {', '.join(missing[:5])}")
    if extra:
        problems.append(f"{len(extra)} unknown pod(s) in groups, e.g. {', '.join(extra[:5])}")
    if problems:
        return problems
    for src, dst in pairs:
        want = ref.connections(src, dst)
        got = matrix.connections(src, dst)
        if got != want:
            problems.append(f"{src} -> {dst}: stockade says {got!r}, reference says {want!r}")
    return problems


def load_manifests(directory: Path) -> list[dict[str, Any]]:
    """The generated files read back as any reader would see them: YAML files, or the JSON
    List (its items)."""
    docs: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            docs.extend(d for d in yaml.load_all(fh, Loader=_Loader) if isinstance(d, dict))
    for path in sorted(directory.glob("*.json")):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        docs.extend(data.get("items", []) if data.get("kind") == "List" else [data])
    return docs


# --- the report -------------------------------------------------------------------------

@dataclass(slots=True)
class Row:
    params: Params
    stockade: Measurement | None = None
    nca: Measurement | None = None
    nca_timeout_s: float = 0.0
    checked: str = "-"


def _cells(m: Measurement | None, timeout_s: float) -> tuple[str, str]:
    """Wall seconds and peak MiB of one run, or why there are none."""
    if m is None:
        return "-", "-"
    if m.returncode is None:
        return f"> {timeout_s:.0f} (time limit)", f"{m.peak_mib:.0f}"
    if not m.ok:
        return f"failed (exit {m.returncode})", f"{m.peak_mib:.0f}"
    return f"{m.wall_s:.2f}", f"{m.peak_mib:.0f}"


def render_table(rows: Sequence[Row], stockade_timeout_s: float) -> str:
    lines = ["| pods | namespaces | policies | stockade wall s | stockade peak MiB "
             "| NCA wall s | NCA peak MiB | NCA / stockade | pairs checked |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        p = row.params
        s_wall, s_mem = _cells(row.stockade, stockade_timeout_s)
        n_wall, n_mem = _cells(row.nca, row.nca_timeout_s)
        ratio = "-"
        if row.stockade is not None and row.stockade.ok and row.nca is not None:
            if row.nca.ok:
                ratio = f"{row.nca.wall_s / row.stockade.wall_s:.0f}x"
            elif row.nca.returncode is None:
                ratio = f"> {row.nca_timeout_s / row.stockade.wall_s:.0f}x"
        lines.append(f"| {p.pods:,} | {p.namespaces:,} | {p.policies:,} | {s_wall} | {s_mem} "
                     f"| {n_wall} | {n_mem} | {ratio} | {row.checked} |")
    return "\n".join(lines)


def render_growth(rows: Sequence[Row]) -> str:
    """Exponents k of time ~ pods^k between successive sizes of 1,000 pods and more."""
    done = sorted((r for r in rows if r.stockade is not None and r.stockade.ok
                   and r.params.pods >= 1000), key=lambda r: r.params.pods)
    out: list[str] = []
    for a, b in itertools.pairwise(done):
        assert a.stockade is not None and b.stockade is not None
        scale = math.log(b.params.pods / a.params.pods)
        if scale <= 0:
            continue
        t = math.log(b.stockade.wall_s / a.stockade.wall_s) / scale
        m = math.log(b.stockade.peak_mib / a.stockade.peak_mib) / scale
        out.append(f"- {a.params.pods:,} -> {b.params.pods:,} pods: wall x"
                   f"{b.stockade.wall_s / a.stockade.wall_s:.1f} (~pods^{t:.2f}), peak memory x"
                   f"{b.stockade.peak_mib / a.stockade.peak_mib:.1f} (~pods^{m:.2f})")
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs{mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


# --- main ---------------------------------------------------------------------------------

def parse_sizes(text: str, seed: int) -> list[Params]:
    """``700,10000`` (namespaces pods/20, policies pods/3) or ``PODS:NAMESPACES:POLICIES``."""
    sizes: list[Params] = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        parts = item.replace("_", "").split(":")
        try:
            numbers = [int(x) for x in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad size {item!r}") from None
        if len(numbers) == 1:
            sizes.append(default_params(numbers[0], seed))
        elif len(numbers) == 3:
            sizes.append(Params(numbers[0], numbers[1], numbers[2], seed))
        else:
            raise argparse.ArgumentTypeError(f"bad size {item!r}: PODS or PODS:NS:POLICIES")
    return sizes


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_size(params: Params, args: argparse.Namespace, nca: Path | None) -> tuple[Row, bool]:
    """Benchmark one size; the flag is False when stockade failed or disagreed."""
    row = Row(params)
    work: Path = args.work
    cluster_dir = work / f"cluster-{params.pods}-{params.namespaces}-{params.policies}"
    start = time.perf_counter()
    write(generate(params), cluster_dir)
    _log(f"[{params.pods} pods] generated {params.namespaces} namespaces, "
         f"{params.policies} policies in {time.perf_counter() - start:.2f} s: {cluster_dir}")

    out = work / f"stockade-{params.pods}.json"
    cmd = stockade_command(args.stockade, cluster_dir)
    _log(f"[{params.pods} pods] {shlex.join(cmd)}")
    row.stockade = measure_median(cmd, out, args.timeout)
    good = True
    if not row.stockade.ok:
        reason = "time limit" if row.stockade.returncode is None else \
            f"exit {row.stockade.returncode}"
        _log(f"[{params.pods} pods] STOCKADE FAILED ({reason}):\n{row.stockade.stderr_tail}")
        row.checked = "no answer"
        good = False
    else:
        _log(f"[{params.pods} pods] stockade: {row.stockade.wall_s:.2f} s, "
             f"{row.stockade.peak_mib:.0f} MiB")
        if args.samples > 0:
            ref = ReferenceCluster.from_dicts(load_manifests(cluster_dir))
            pairs = sample_pairs(ref, args.samples, params.seed)
            try:
                matrix = read_matrix_rows(out, {src for src, _ in pairs})
                problems = check(ref, matrix, pairs)
            except (CheckError, json.JSONDecodeError) as exc:
                problems = [str(exc)]
                pairs = []
            if problems:
                good = False
                row.checked = f"MISMATCH ({len(problems)})"
                _log(f"[{params.pods} pods] STOCKADE DISAGREES WITH THE REFERENCE "
                     f"({len(problems)} problem(s)):")
                for line in problems[:20]:
                    _log(f"  {line}")
            else:
                row.checked = f"{len(pairs):,} ok"
                _log(f"[{params.pods} pods] {len(pairs)} sampled pairs agree with the reference")

    if nca is not None and params.pods in args.nca_pods:
        row.nca_timeout_s = args.nca_timeout
        _log(f"[{params.pods} pods] network-config-analyzer (time limit {args.nca_timeout:.0f} s)")
        row.nca = measure(nca_command(nca, cluster_dir), work / f"nca-{params.pods}.txt",
                          args.nca_timeout)
        if row.nca.returncode is not None and not row.nca.ok:
            _log(f"[{params.pods} pods] NCA failed (exit {row.nca.returncode}):\n"
                 f"{row.nca.stderr_tail[-1500:]}")
        else:
            _log(f"[{params.pods} pods] NCA: {row.nca.wall_s:.2f} s, {row.nca.peak_mib:.0f} MiB")
    return row, good


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time `stockade matrix -o json` on generated clusters, side by side with "
                    "network-config-analyzer, and check sampled pairs against a reference.")
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"pod counts (or PODS:NAMESPACES:POLICIES), default {DEFAULT_SIZES}")
    parser.add_argument("--nca-sizes", default=DEFAULT_NCA_SIZES,
                        help=f"pod counts on which NCA also runs, default {DEFAULT_NCA_SIZES}")
    parser.add_argument("--skip-nca", action="store_true", help="do not run (or install) NCA")
    parser.add_argument("--nca-timeout", type=float, default=900.0,
                        help="NCA time limit per size in seconds (default 900)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="stockade time limit per size in seconds (default 600)")
    parser.add_argument("--samples", type=int, default=2000,
                        help="ordered pod pairs checked against the reference per size "
                             "(default 2000, 0 to skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / ".work",
                        help="where clusters and outputs are written (default benchmarks/.work)")
    parser.add_argument("--stockade", default="",
                        help="command prefix to run stockade (default: the stockade command "
                        "next to this Python, else this Python -m stockade)")
    parser.add_argument("--nca-venv", type=Path, default=HERE / ".nca-venv")
    args = parser.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes, args.seed)
        args.nca_pods = {p.pods for p in parse_sizes(args.nca_sizes, args.seed)}
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    args.work.mkdir(parents=True, exist_ok=True)

    nca: Path | None = None
    if not args.skip_nca and any(p.pods in args.nca_pods for p in sizes):
        try:
            nca = ensure_nca(args.nca_venv)
        except (subprocess.CalledProcessError, OSError) as exc:
            _log(f"cannot install {NCA_PACKAGE} {NCA_VERSION}: {exc}; NCA columns stay empty")

    rows: list[Row] = []
    all_good = True
    for params in sizes:
        row, good = run_size(params, args, nca)
        rows.append(row)
        all_good = all_good and good

    print(f"Machine: {machine()}")
    print(f"Command: python -m benchmarks.run {shlex.join(argv or sys.argv[1:])}".rstrip())
    print()
    print(render_table(rows, args.timeout))
    growth = render_growth(rows)
    if growth:
        print()
        print("Growth of stockade's wall time and peak memory:")
        print(growth)
    if not all_good:
        print("\nFAILED: stockade failed or disagreed with the reference (details on stderr)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
