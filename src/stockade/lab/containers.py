"""The containers a lab pod could run, as the kubelet would start them: the command line
(``command`` + ``args``, with ``$(VAR)`` references expanded), the environment (literal
``env`` values and the pod fields a ``fieldRef`` names), the working directory and the user
and group. Pure: running them is ``sandbox``'s job, and only with ``--run-commands``.

No image is pulled, so a container without ``command`` has no known entrypoint: its
``args`` alone are run as the command.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from stockade.errors import InputError
from stockade.model.types import Container, Pod

NOBODY = 65534  # the user, and the group, a container runs as when the manifest names none
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_ID = 2**31 - 1  # runAsUser/runAsGroup: 0 to 2147483647, as the API server validates

_LABEL_REF = re.compile(r"metadata\.labels\['(.+)'\]")


@dataclass(frozen=True, slots=True)
class LabContainer:
    name: str
    argv: tuple[str, ...]
    init: bool  # run to its end before what follows starts (not a native sidecar)
    env: tuple[tuple[str, str], ...]
    working_dir: str  # "" for the default, /
    user: int
    group: int
    hosts_file: bool  # whether the kubelet mounts the managed /etc/hosts in it
    notes: tuple[str, ...] = ()  # what of the manifest the lab could not honour


MAX_ARG_BYTES = 128 * 1024 - 1  # the longest string execve takes (MAX_ARG_STRLEN, NUL included)
MAX_EXEC_BYTES = 2 * 1024 * 1024  # argv and environment in all (ARG_MAX with an 8 MiB stack)


class _TooLong(ValueError):
    """What ``expand`` would write is past its ``Room``."""


class Room:
    """What is left for one program's command line and environment: each string at most
    ``MAX_ARG_BYTES``, all of them (with their pointers) at most ``MAX_EXEC_BYTES``, so that
    ``$(VAR)`` references cannot multiply a manifest into gigabytes."""

    def __init__(self) -> None:
        self.left = MAX_EXEC_BYTES

    def take(self, text: str) -> str:
        size = len(text.encode(errors="surrogatepass")) + 1
        if size > MAX_ARG_BYTES + 1:
            raise _TooLong("string")
        self.left -= size + 8  # the string, its NUL and its pointer
        if self.left < 0:
            raise _TooLong("total")
        return text


def expand(text: str, lookup: Callable[[str], str | None], room: Room | None = None) -> str:
    """Kubernetes' ``$(VAR)`` expansion: a defined name is replaced, ``$$`` is a literal
    ``$``, anything else (an undefined name, an unclosed ``$(``) is kept as written. With
    ``room``, the result is taken from it (``_TooLong`` past it, found while expanding)."""
    if "$" not in text:
        return text if room is None else room.take(text)
    out: list[str] = []
    size, i, end = 0, 0, len(text)
    last_close = text.rfind(")")
    while i < end:
        at = text.find("$", i)
        if at == -1 or at + 1 == end:
            piece, i = text[i:], end
        elif text[at + 1] == "$":
            piece, i = text[i:at] + "$", at + 2
        elif text[at + 1] == "(" and at + 2 <= last_close:
            close = text.find(")", at + 2)
            name = text[at + 2:close]
            value = lookup(name)
            piece, i = text[i:at] + (f"$({name})" if value is None else value), close + 1
        else:  # "$(" that nothing closes, or "$" and another character: kept as written
            piece, i = text[i:at + 2], at + 2
        size += len(piece)
        if room is not None and size > MAX_ARG_BYTES:
            raise _TooLong("string")
        out.append(piece)
    result = "".join(out)
    return result if room is None else room.take(result)


def _field(pod: Pod, ips: Sequence[str], path: str) -> str | None:
    """The value of a ``fieldRef`` the lab can know, or ``None``."""
    simple: Mapping[str, str] = {
        "metadata.name": pod.metadata.name,
        "metadata.namespace": pod.metadata.namespace,
        "spec.nodeName": pod.spec.node_name,
        "status.podIP": ips[0] if ips else "",
        "status.podIPs": ",".join(ips),
        "status.hostIP": pod.host_ips[0] if pod.host_ips else "",
        "status.hostIPs": ",".join(pod.host_ips),
    }
    if path in simple:
        return simple[path]
    label = _LABEL_REF.fullmatch(path)
    if label:
        return pod.metadata.label_map.get(label.group(1), "")
    return None


def _environment(pod: Pod, ips: Sequence[str], container: Container,
                 notes: list[str], room: Room) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.env_from:
        notes.append(f"envFrom {source or '(unknown source)'} is not supported by the lab: "
                     "its variables are not set")
    for var in container.env:
        if var.value_from == "fieldRef":
            value = _field(pod, ips, var.field_path)
            if value is None:
                notes.append(f"env {var.name}: fieldRef {var.field_path} is not supported by "
                             "the lab: not set")
                continue
        elif var.value_from:
            notes.append(f"env {var.name}: valueFrom.{var.value_from} is not supported by the "
                         "lab (only literal values and fieldRef): not set")
            continue
        else:
            value = expand(var.value, env.get, room)
        room.take(f"{var.name}={value}" if var.value_from else var.name)
        env[var.name] = value
    return env


def _check(pod: Pod, container: Container, argv: Sequence[str], env: Mapping[str, str],
           ids: tuple[int, int]) -> None:
    user, group = ids
    where = f"{pod.origin}: Pod {pod.key}: container {container.name}"
    for text in (*argv, *env.values()):
        if "\0" in text:
            raise InputError(f"{where}: a command, argument or env value holds a NUL "
                             "character, which no process can be given")
    for name in env:
        if not name or "=" in name or "\0" in name:
            raise InputError(f'{where}: env name "{name}" cannot be set (empty, or holds "=" '
                             "or NUL)")
    for field, value in (("runAsUser", user), ("runAsGroup", group)):
        if not 0 <= value <= MAX_ID:
            raise InputError(f"{where}: securityContext.{field}: Invalid value: {value}: must "
                             f"be between 0 and {MAX_ID}, inclusive")
    if container.working_dir and not container.working_dir.startswith("/"):
        raise InputError(f'{where}: workingDir "{container.working_dir}" is not an absolute '
                         "path")
    if "\0" in container.working_dir:
        raise InputError(f"{where}: workingDir holds a NUL character")


def containers_of(pod: Pod, ips: Sequence[str], hosts_for: set[str]) -> tuple[LabContainer,
                                                                              ...]:
    """The pod's init containers, then its regular ones, that have something to run; a
    native sidecar (``restartPolicy: Always``) is not marked ``init`` (not waited for)."""
    out: list[LabContainer] = []
    for init, containers in ((True, pod.spec.init_containers), (False, pod.spec.containers)):
        for c in containers:
            raw = c.command + c.args if c.command else c.args
            if not raw:
                continue
            notes: list[str] = []
            room = Room()
            try:
                env = _environment(pod, ips, c, notes, room)
                argv = tuple(expand(a, env.get, room) for a in raw)
            except _TooLong as exc:
                where = f"{pod.origin}: Pod {pod.key}: container {c.name}"
                raise InputError(f"{where}: " + (
                    "a command, argument or env value is longer than 128 KiB once $(VAR) "
                    "references are expanded" if str(exc) == "string" else
                    "more than 2 MiB of command, arguments and environment once $(VAR) "
                    "references are expanded") + ", which the kernel refuses to start a "
                    "program with") from None
            sc, psc = c.security_context, pod.spec.security_context
            user = sc.run_as_user if sc.run_as_user is not None else psc.run_as_user
            group = sc.run_as_group if sc.run_as_group is not None else psc.run_as_group
            user = NOBODY if user is None else user
            group = NOBODY if group is None else group
            _check(pod, c, argv, env, (user, group))
            # A native sidecar is not waited for: the kubelet starts what follows it once
            # it has started, and it runs beside the pod's containers.
            waited = init and c.restart_policy != "Always"
            out.append(LabContainer(c.name, argv, waited, tuple(env.items()), c.working_dir,
                                    user, group, c.name in hosts_for, tuple(notes)))
    return tuple(out)
