"""Manifests as they were in a git revision: ``stockade diff --base origin/main manifests/``.

Runs the ``git`` binary (``ls-tree`` to list the files under the paths at the revision,
one ``cat-file --batch`` to read them all), from the current directory, so that paths mean
what they mean to the user and any checkout with history works, CI's included. Objects
are named ``REV:path`` with their line, as files are.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import PurePosixPath

from stockade.errors import DocumentError, InputError
from stockade.model.build import RawObject
from stockade.sources.files import MANIFEST_SUFFIXES, decode_text, maybe_manifest, parse_text
from stockade.sources.limits import Budget


def _git(argv: Sequence[str], stdin: bytes | None = None) -> bytes:
    if shutil.which("git") is None:
        raise InputError("--base needs git on PATH")
    result = subprocess.run(["git", *argv], input=stdin, capture_output=True, check=False,
                            timeout=300)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git {argv[0]}: {message[-1] if message else 'failed'}")
    return result.stdout


def revision_files(revision: str, paths: Sequence[str],
                   budget: Budget | None = None) -> dict[str, str]:
    """The manifest files (``.yaml``, ``.yml``, ``.json``) under ``paths`` at ``revision``,
    as ``{path as the user would write it: text}``, sorted by path."""
    if revision.startswith("-"):
        raise InputError(f"--base {revision}: not a revision")
    _git(["rev-parse", "--show-toplevel"])  # a clear error outside a repository
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"])
    except InputError:
        raise InputError(f"--base {revision}: no such revision in this repository (in a "
                         "shallow CI checkout, fetch it first: git fetch origin main)") from None
    prefix = _git(["rev-parse", "--show-prefix"]).decode().strip()
    names = _manifest_names(revision, _pathspecs(prefix, paths))
    if not names:
        return {}
    budget = budget or Budget()
    request = "".join(f"{revision}:{name}\n" for name in names).encode()
    blob = _git(["cat-file", "--batch", "--follow-symlinks"], stdin=request)
    texts: dict[str, str] = {}
    at = 0
    for name in names:
        header_end = blob.index(b"\n", at)
        header = blob[at:header_end].split()
        if len(header) < 3 or header[1] != b"blob":
            raise InputError(f"{revision}:{name}: cannot read it from git")
        size = int(header[2])
        label = f"{revision}:{name}"
        budget.take_bytes(size, label)
        data = blob[header_end + 1:header_end + 1 + size]
        at = header_end + 1 + size + 1
        texts[_relative(prefix, name)] = decode_text(data, label)
    return texts


LINK_MODE = "120000"


def _entries(tree: str, specs: Sequence[str] = ()) -> list[tuple[bool, str, str]]:
    """(is a symbolic link, type, name) of every file below ``tree`` (a revision, with
    ``specs`` from the top, or a tree object)."""
    argv = ["ls-tree", "-r", "-z", "--full-tree", tree, "--", *specs] if specs else [
        "ls-tree", "-r", "-z", tree]
    out = []
    for record in _git(argv).decode("utf-8", "replace").split("\0"):
        meta, _, name = record.partition("\t")
        if name:
            mode, kind, _ = meta.split(" ", 2)
            out.append((mode == LINK_MODE, kind, name))
    return out


def _follow(revision: str, links: Sequence[str]) -> list[tuple[str, str]]:
    """What each link leads to in the revision: (type, object), ("missing", "") when the
    name is not in it, or ("", why not)."""
    request = "".join(f"{revision}:{name}\n" for name in links).encode()
    lines = _git(["cat-file", "--batch-check", "--follow-symlinks"], stdin=request).decode(
        "utf-8", "replace").split("\n")
    out: list[tuple[str, str]] = []
    at = 0
    for name in links:
        words = lines[at].split()
        at += 1
        if words and words[0] in ("symlink", "dangling", "loop", "notdir"):
            target, at = lines[at], at + 1
            problem = words[0]
            if problem == "dangling":  # git names the link asked for: say where it leads
                try:
                    target = _git(["cat-file", "blob", f"{revision}:{name}"]).decode(
                        "utf-8", "replace")
                except InputError:  # not a link itself: a path through one
                    problem = "through"
            out.append(("", _LINK_PROBLEMS[problem].format(target=target, rev=revision)))
        elif len(words) == 3:
            out.append((words[1], words[0]))
        else:  # "REV:name missing": not in the revision at all
            out.append(("missing", ""))
    return out


_LINK_PROBLEMS = {
    "symlink": "a symbolic link out of the repository (to {target!r}): its target is not "
               "in the revision",
    "dangling": "a dangling symbolic link (to {target!r}, which does not exist at {rev})",
    "through": "a path through a dangling symbolic link at {rev}",
    "loop": "a symbolic link loop (through {target!r})",
    "notdir": "a dangling symbolic link (through {target!r}, which is not a directory at "
              "{rev})",
}


def _manifest_names(revision: str, specs: Sequence[str]) -> list[str]:
    """Names (from the top) of the manifest files below ``specs`` at ``revision``, symbolic
    links followed as the working tree's reader follows them: a link to a file is that
    file, a link to a directory is read below it (each directory once), and a link that
    leads nowhere is an error when its name could be a manifest's."""
    names: list[str] = []
    links: list[str] = []

    def take(entries: Sequence[tuple[bool, str, str]], under: str = "") -> None:
        for is_link, kind, name in entries:
            full = f"{under}/{name}" if under else name
            if is_link:
                links.append(full)
            elif kind == "blob" and name.lower().endswith(MANIFEST_SUFFIXES):
                names.append(full)

    for spec in specs:
        found = _entries(revision, [spec])
        take(found)
        if not found and spec != ".":
            links.append(spec)  # perhaps a path through a link: followed below
    seen: set[str] = set()
    while links:
        pending, links = links, []
        for name, (kind, what) in zip(pending, _follow(revision, pending), strict=True):
            if not kind:
                if maybe_manifest(name):
                    raise InputError(f"{revision}:{name}: {what}")
            elif kind == "missing":
                continue  # a PATH the revision lacks: nothing of it on the old side
            elif kind == "blob":
                if name.lower().endswith(MANIFEST_SUFFIXES):
                    names.append(name)
            elif kind == "tree" and what not in seen:
                seen.add(what)
                take(_entries(what), name)
    return sorted(set(names), key=lambda n: n.split("/"))


def _pathspecs(prefix: str, paths: Sequence[str]) -> list[str]:
    """Paths relative to the current directory as paths from the repository's top."""
    out = []
    for path in paths or ["."]:
        if path.startswith("/"):
            raise InputError(f"{path}: with --base, give paths inside the repository, "
                             "relative to the current directory")
        joined = PurePosixPath(prefix) / path
        parts: list[str] = []
        for part in joined.parts:
            if part == "..":
                if not parts:
                    raise InputError(f"{path}: outside the repository")
                parts.pop()
            elif part != ".":
                parts.append(part)
        out.append("/".join(parts) or ".")  # with --full-tree: from the top
    return out


def _relative(prefix: str, name: str) -> str:
    """A name from the repository's top as a path relative to the current directory."""
    up = PurePosixPath(prefix) if prefix else None
    if up is None:
        return name
    name_path = PurePosixPath(name)
    try:
        return str(name_path.relative_to(up))
    except ValueError:
        depth = len(up.parts)
        return str(PurePosixPath(*([".."] * depth)) / name_path)


def read_revision(revision: str, paths: Sequence[str], *,
                  broken: list[DocumentError] | None = None
                  ) -> tuple[list[RawObject], dict[str, str]]:
    """Every object under ``paths`` at ``revision`` (named ``REV:path``), and the texts by
    those names (for finding lines of fields later), within the limits of any input.
    Broken documents raise, or are collected in ``broken`` when it is given."""
    budget = Budget()
    objects: list[RawObject] = []
    texts: dict[str, str] = {}
    for path, text in revision_files(revision, paths, budget).items():
        name = f"{revision}:{path}"
        texts[name] = text
        objects.extend(parse_text(text, name, json_hint=path.lower().endswith(".json"),
                                  broken=broken, budget=budget))
    return objects, texts
