"""Writing the file for real (tmp_path): content, mode 0644 despite the umask, atomicity."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stockade.hosts.write import write_hosts_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def strict_umask() -> object:
    old = os.umask(0o077)
    yield
    os.umask(old)


@pytest.mark.usefixtures("strict_umask")
@pytest.mark.parametrize("atomic", [True, False])
def test_writes_bytes_with_mode_0644(tmp_path: Path, atomic: bool) -> None:
    target = tmp_path / "etc-hosts"
    write_hosts_file(target, b"a\tb\n", atomic=atomic)
    assert target.read_bytes() == b"a\tb\n"
    assert _mode(target) == 0o644
    target.chmod(0o600)
    write_hosts_file(str(target), b"c\n", atomic=atomic)
    assert target.read_bytes() == b"c\n"
    assert _mode(target) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["etc-hosts"]


def test_atomic_write_replaces_the_inode_in_place_write_keeps_it(tmp_path: Path) -> None:
    target = tmp_path / "etc-hosts"
    write_hosts_file(target, b"one\n")
    first = target.stat().st_ino
    with open(target, "rb") as held:  # a reader that opened the old file keeps old content
        write_hosts_file(target, b"two\n")
        assert held.read() == b"one\n"
    assert target.stat().st_ino != first
    second = target.stat().st_ino
    write_hosts_file(target, b"three\n", atomic=False)
    assert target.stat().st_ino == second
    assert target.read_bytes() == b"three\n"


def test_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    with pytest.raises(OSError):
        write_hosts_file(target, b"x\n")
    assert [p.name for p in tmp_path.iterdir()] == ["dir-in-the-way"]
