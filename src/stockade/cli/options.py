"""Command-line options checked before any input is read: a typo is a usage error (exit 2)
that names the option, never a traceback and never a silent reinterpretation, and never
waits for a large input or a cluster to be read first."""

from __future__ import annotations

import argparse
import os
import stat

from stockade.errors import UsageError
from stockade.model.build import WORKLOAD_KINDS
from stockade.model.netparse import parse_ip
from stockade.model.validate.names import is_dns1123_label, is_dns1123_subdomain

_NAMESPACE_RULE = ("must be a namespace name: a lowercase RFC 1123 label (a-z, 0-9 and '-', "
                   "starting and ending with a letter or digit, at most 63 characters)")
_NAME_RULE = ("must be an object name: a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and "
              "'.', starting and ending with a letter or digit, at most 253 characters)")


def check_namespace(option: str, value: str) -> None:
    if is_dns1123_label(value):
        raise UsageError(f"{option} {value!r}: {_NAMESPACE_RULE}")


def check_name(option: str, value: str) -> None:
    if is_dns1123_subdomain(value):
        raise UsageError(f"{option} {value!r}: {_NAME_RULE}")


def check_input_options(args: argparse.Namespace) -> None:
    """The options every analysing command shares (``add_input_arguments``)."""
    cluster = getattr(args, "cluster", False)
    helm = getattr(args, "helm", None)
    if cluster and helm:
        raise UsageError("give either --helm or --cluster, not both")
    if cluster and args.paths:
        raise UsageError("give either PATHs or --cluster, not both")
    if getattr(args, "values", None) and not helm:
        raise UsageError("--values is for --helm CHART_DIR")
    if not cluster and not args.paths and not helm:
        raise UsageError("no input: give manifest files or directories, - for stdin, "
                         "--helm CHART_DIR, or --cluster")
    if args.paths.count("-") > 1:
        raise UsageError("- (stdin) can be read only once")
    if "" in args.paths:
        raise UsageError("an empty PATH: give a file, a directory or - for stdin")
    if not cluster:
        check_no_cluster_options(args)
    check_cluster_options(args)
    if helm is not None:
        if not os.path.exists(helm):
            raise UsageError(f"--helm {helm}: no such chart directory or file")
        for path in args.values:
            check_readable_file("--values", path)
    if getattr(args, "helm_namespace", None) is not None:
        check_namespace("--helm-namespace", args.helm_namespace)


def check_no_cluster_options(args: argparse.Namespace) -> None:
    """``--context``, ``--kubeconfig`` and ``-n`` given without ``--cluster``."""
    for option in ("context", "kubeconfig", "cluster_namespace"):
        if getattr(args, option, None) is not None:
            flag = {"cluster_namespace": "-n/--namespace"}.get(option, f"--{option}")
            raise UsageError(f"{flag} is for --cluster")


def check_cluster_options(args: argparse.Namespace) -> None:
    """``--context``, ``--kubeconfig`` and ``-n`` of a cluster read."""
    if getattr(args, "context", None) is not None and not args.context:
        raise UsageError("--context needs a context name")
    if getattr(args, "kubeconfig", None) is not None:
        check_readable_file("--kubeconfig", args.kubeconfig)
    if getattr(args, "cluster_namespace", None) is not None:
        check_namespace("-n/--namespace", args.cluster_namespace)


def check_readable_file(option: str, path: str) -> None:
    """An option naming a file: it must exist and be a regular file (or a pipe from
    process substitution, which may only be checked by reading it)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{option} {path}: a directory, not a file")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise UsageError(f"{option} {path}: not a regular file")


def check_output_file(option: str, path: str) -> None:
    """An option naming a file to write: its directory must exist, and it must not be a
    directory itself."""
    if path == "-":
        return
    if not path:
        raise UsageError(f"{option} needs a file name (or - for stdout)")
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise UsageError(f"{option} {path!r}: no such directory {directory!r}")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path!r}: a directory, not a file")


def check_endpoint(option: str, text: str) -> None:
    """``--from``/``--to``: an IP address, ``ns/pod`` or ``ns/Kind/name`` (a workload).
    Service references (``svc/...``) are checked by the caller."""
    if parse_ip(text) is not None:
        return
    parts = text.split("/")
    if len(parts) not in (2, 3):
        raise UsageError(f"{option} {text!r}: give ns/pod, ns/Kind/name (a workload) or an "
                         "IP address")
    check_namespace(f"{option} {text!r}: the namespace", parts[0])
    if len(parts) == 3 and parts[1] not in WORKLOAD_KINDS:
        raise UsageError(f"{option} {text!r}: {parts[1]!r} is not a workload kind (one of "
                         f"{', '.join(WORKLOAD_KINDS)})")
    check_name(f"{option} {text!r}: the name", parts[-1])


def check_service_ref(option: str, text: str) -> None:
    """``svc/NS/NAME[:PORT[/PROTO]]``: names as the API server allows them, the port a
    number from 1 to 65535 in ASCII digits or a port name."""
    from stockade.engine.services import parse_service_ref

    ref = parse_service_ref(text)
    if ref is None:
        return
    check_namespace(f"{option} {text!r}: the namespace", ref.namespace)
    if is_dns1123_label(ref.name):
        raise UsageError(f"{option} {text!r}: the Service name must be a lowercase RFC 1123 "
                         "label (a-z, 0-9 and '-', at most 63 characters)")
    port = ref.port
    if not port:
        return
    if port.isascii() and port.isdigit():
        if len(port) > 5 or not 1 <= int(port) <= 65535:
            raise UsageError(f"{option} {text!r}: port must be a number from 1 to 65535")
    elif is_dns1123_label(port):
        raise UsageError(f"{option} {text!r}: the port must be a number from 1 to 65535 "
                         "(ASCII digits) or a port name (a-z, 0-9 and '-')")
