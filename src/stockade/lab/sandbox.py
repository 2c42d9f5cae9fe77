"""Start one container of a lab pod inside its sandbox: ``python -I -S sandbox.py SPEC``.

Run by the lab daemon as ``nsenter --net=<pod netns> unshare --mount --uts --ipc --pid
--fork ...``, so it starts as root, PID 1 of a new PID namespace, in new mount, UTS and
IPC namespaces and the pod's network namespace. It then builds the container's view and
drops every privilege before the command runs:

- a new root (a small tmpfs) holding the host's top-level directories bound read-only,
  every mount below them read-only, nosuid and nodev (checked: it refuses to start the
  container if any is still writable); a fresh ``/proc`` (this PID namespace only) with
  ``/proc/sys`` and the other kernel knobs read-only and ``/proc/kcore``-like files masked;
  a fresh read-only ``/sys``; a ``/dev`` of null, zero, full, random, urandom and tty only;
  private tmpfs ``/tmp``, ``/run``, ``/dev/shm`` and working directory (64 MiB each);
  the pod's managed hosts file at ``/etc/hosts``;
- the hostname the kubelet gives the pod;
- ``chroot`` into the new root (which also keeps it from making user namespaces, so it
  cannot leave the pod's network or PID namespace), then ``setpriv``: the container's user
  and group, no supplementary groups, no capabilities (bounding, inheritable and ambient
  sets empty, root's automatic capabilities off and locked), no new privileges; an
  environment of exactly PATH, HOSTNAME, HOME and the manifest's variables;
- a seccomp filter refusing the kernel keyring calls (keyrings are not namespaced).

Standard library only, and no import of ``stockade``: it runs before anything else in the
sandbox, as a script. Errors go to stderr (the container's log) with exit status 126.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
TMPFS_SIZE = "64m"
SKIPPED = {"proc", "sys", "dev", "tmp", "run"}  # replaced by the sandbox's own
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
PROC_MASKED = ("kcore", "keys", "timer_list", "kmsg", "sched_debug")

_libc = ctypes.CDLL(None, use_errno=True)

# The kernel's keyrings are not namespaced: a container's user keyring is the host's one of
# the same uid (and root's persistent keyring outlives the lab). A seccomp filter refuses
# add_key, request_key and keyctl with EPERM, as Docker's default profile does, in every
# system call ABI of the machine (a 64-bit process can make 32-bit calls through int 0x80);
# x32 calls and calls of an ABI not listed are refused whole. Nothing else is filtered.
AUDIT_ARCH = {"x86_64": 0xC000003E, "i386": 0x40000003, "aarch64": 0xC00000B7,
              "arm": 0x40000028}
KEY_CALLS = {  # per machine: (ABI, its add_key, request_key and keyctl numbers)
    "x86_64": (("x86_64", (248, 249, 250)), ("i386", (286, 287, 288))),
    "aarch64": (("aarch64", (217, 218, 219)), ("arm", (309, 310, 311))),
}
X32_BIT = 0x40000000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def keyring_filter(machine: str) -> list[tuple[int, int, int, int]]:
    """The classic BPF program, as (code, jt, jf, k): load the ABI, jump to its block (load
    the call number, refuse the key calls), allow the rest; an unknown ABI is refused."""
    abis = KEY_CALLS.get(machine)
    if abis is None:
        raise SandboxError(f"no system call table for {machine}: the sandbox cannot keep "
                           "containers from the host's kernel keyrings here")
    blocks = []
    for abi, numbers in abis:
        block: list[tuple[int, object, object, int]] = [(_LD_W_ABS, 0, 0, 0)]
        if abi == "x86_64":
            block.append((_JGE_K, "nosys", 0, X32_BIT))
        block += [(_JEQ_K, "eperm", 0, n) for n in numbers]
        block.append((_RET_K, 0, 0, _RET_ALLOW))
        blocks.append(block)
    head: list[tuple[int, object, object, int]] = [(_LD_W_ABS, 0, 0, 4)]
    head += [(_JEQ_K, f"abi{i}", 0, AUDIT_ARCH[abi]) for i, (abi, _) in enumerate(abis)]
    head.append((_RET_K, 0, 0, _RET_ERRNO | _ENOSYS))
    program, labels = list(head), {}
    for i, block in enumerate(blocks):
        labels[f"abi{i}"] = len(program)
        program += block
    labels["eperm"] = len(program)
    program.append((_RET_K, 0, 0, _RET_ERRNO | _EPERM))
    labels["nosys"] = len(program)
    program.append((_RET_K, 0, 0, _RET_ERRNO | _ENOSYS))

    def offset(at: int, target: object) -> int:
        return 0 if target == 0 else labels[str(target)] - at - 1

    return [(code, offset(i, jt), offset(i, jf), k)
            for i, (code, jt, jf, k) in enumerate(program)]


def _install_keyring_filter() -> None:
    program = keyring_filter(os.uname().machine)
    filters = (_SockFilter * len(program))(*[_SockFilter(*i) for i in program])
    fprog = _SockFprog(len(program), filters)
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"seccomp filter: {os.strerror(err)}")


class SandboxError(Exception):
    pass


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    if _libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                   ctypes.c_ulong(flags), data and data.encode()) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"mount {target}: {os.strerror(err)}")


def _umount(target: str) -> None:
    if _libc.umount2(target.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"umount {target}: {os.strerror(err)}")


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    out, i = [], 0
    while i < len(field):
        code = field[i + 1:i + 4]
        if field[i] == "\\" and len(code) == 3 and all(c in "01234567" for c in code):
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mounts_under(root: str) -> list[tuple[str, set[str]]]:
    """(mount point, per-mount options) of every mount strictly below ``root``."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            point = _unescape(fields[4])
            if point.startswith(root + "/"):
                found.append((point, set(fields[5].split(","))))
    return found


def _read_only_below(root: str) -> None:
    for point, options in _mounts_under(root):
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        if "noexec" in options:
            flags |= MS_NOEXEC
        _mount(None, point, None, flags)
    writable = [p for p, options in _mounts_under(root) if "ro" not in options]
    if writable:
        raise SandboxError("could not make the host read-only: " + ", ".join(writable))


def _bind(source: str, target: str, flags: int = 0) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | flags)


def _tmpfs(target: str, mode: str, owner: tuple[int, int] = (0, 0), flags: int = 0) -> None:
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | flags,
           f"size={TMPFS_SIZE},mode={mode},uid={owner[0]},gid={owner[1]}")


def _host_tree(root: str) -> None:
    for entry in sorted(os.listdir("/")):
        source, target = "/" + entry, os.path.join(root, entry)
        if entry in SKIPPED:
            continue
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        elif os.path.isdir(source):
            os.mkdir(target)
            _mount(source, target, None, MS_BIND | MS_REC)
    for entry in SKIPPED:
        os.mkdir(os.path.join(root, entry))


def _proc(root: str) -> None:
    proc = os.path.join(root, "proc")
    _mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = os.path.join(proc, name)
        if os.path.exists(path):
            _bind(path, path, MS_NOEXEC)
    null = os.path.join(root, "dev", "null")
    for name in PROC_MASKED:
        path = os.path.join(proc, name)
        if os.path.exists(path):
            _mount(null, path, None, MS_BIND)


def _dev(root: str) -> None:
    dev = os.path.join(root, "dev")
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")
    for name in DEVICES:
        target = os.path.join(dev, name)
        open(target, "w").close()
        _mount("/dev/" + name, target, None, MS_BIND)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC)
    for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                       ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(link, os.path.join(dev, name))
    os.mkdir(os.path.join(dev, "shm"))
    _tmpfs(os.path.join(dev, "shm"), "1777", flags=MS_NOEXEC)
    _mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")


def _working_dir(path: str, owner: tuple[int, int]) -> None:
    """A private, writable directory at ``path`` (an existing one is covered, not used).
    Runs inside the new root, so that symbolic links resolve there."""
    if not os.path.isdir(path):
        try:
            os.makedirs(path)
        except OSError as exc:
            raise SandboxError(f"workingDir {path} does not exist on this host and cannot be "
                               f"made ({exc.strerror}): the host is read-only in the lab's "
                               "sandbox; use a directory that exists, a new top-level one, or "
                               "one under /tmp or /run") from None
    _tmpfs(path, "755", owner)


def build(spec: dict[str, object]) -> tuple[str, list[str], dict[str, str]]:
    """Set the sandbox up; the program, argv and environment to run in it."""
    root = str(spec["root"])
    uid, gid = int(str(spec["user"])), int(str(spec["group"]))
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    _host_tree(root)
    _read_only_below(root)
    _dev(root)
    _proc(root)
    _mount("sysfs", os.path.join(root, "sys"), "sysfs",
           MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _tmpfs(os.path.join(root, "tmp"), "1777")
    _tmpfs(os.path.join(root, "run"), "755", (uid, gid))
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if setpriv is None:
        raise SandboxError("setpriv (util-linux) not found")
    os.chdir(root)
    os.chroot(".")
    # From here on, paths are the container's: links in the host tree resolve inside.
    hosts = str(spec.get("hosts") or "")
    if hosts:
        _bind(hosts, "/etc/hosts", MS_NOEXEC)
    working_dir = str(spec.get("working_dir") or "")
    if working_dir:
        _working_dir(working_dir, (uid, gid))
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    socket.sethostname(str(spec["hostname"]))
    os.chdir(working_dir or "/")
    argv = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
            "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all",
            "--securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked,"
            "+keep_caps_locked", "--no-new-privs", "--"]
    _install_keyring_filter()  # last: setpriv and the command run under it
    command = [str(a) for a in spec["argv"]]  # type: ignore[attr-defined]
    env = {str(k): str(v) for k, v in spec["env"]}  # type: ignore[attr-defined]
    return setpriv, argv + command, env


def main(argv: list[str]) -> int:
    with open(argv[0]) as handle:
        spec = json.load(handle)
    try:
        program, args, env = build(spec)
    except (SandboxError, OSError) as exc:
        print(f"stockade: the container's sandbox could not be set up: {exc}", file=sys.stderr)
        return 126
    os.execve(program, args, env)
    return 126  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
