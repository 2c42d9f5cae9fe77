"""Turn what lightkube and httpx raise into stockade errors a person can act on.

A 403 says which RBAC verb on which resource (and group, and scope) is missing; a 401 says
the credentials were refused; a refused connection or an untrusted certificate names the
server and the context. Bad credentials and kubeconfig problems are ``InputError``; a server
that cannot be reached is an ``EnvironmentProblem``. No traceback reaches the user.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx2
from lightkube.core.exceptions import ApiError, ConfigError

from stockade.errors import EnvironmentProblem, InputError, StockadeError
from stockade.sources.cluster_kinds import ResourceKind


@dataclass(frozen=True, slots=True)
class Request:
    """One read stockade made: ``verb`` on ``resource`` in ``namespace`` (None: all)."""

    verb: str  # "list" or "get"
    resource: ResourceKind
    namespace: str | None = None
    name: str | None = None

    @property
    def target(self) -> str:
        return f'{self.resource.qualified} "{self.name}"' if self.name else \
            self.resource.qualified

    @property
    def _outside_namespaces(self) -> bool:
        """A kind no namespace holds and ``-n`` does not avoid (Nodes; not Namespaces,
        which ``-n`` reads one by one with ``get``)."""
        return not self.resource.namespaced and self.resource.kind != "Namespace"

    @property
    def scope(self) -> str:
        if self.namespace:
            return f'in the namespace "{self.namespace}"'
        if self._outside_namespaces:
            return "at the cluster scope"
        return "at the cluster scope (all namespaces)"

    @property
    def rbac(self) -> str:
        need = (f'RBAC needs verb "{self.verb}" on resource "{self.resource.plural}" '
                f"({self.resource.group_phrase})")
        if self.namespace:
            return need
        if self._outside_namespaces:
            return f"{need} in a ClusterRole bound by a ClusterRoleBinding"
        return (f"{need} in a ClusterRole bound by a ClusterRoleBinding; or read one "
                "namespace with -n NAMESPACE")


@dataclass(frozen=True, slots=True)
class Where:
    """The cluster being read, for messages: ``context kind-dev`` and its server URL."""

    label: str
    server: str


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of an API error (from the ``Status`` body when there is one)."""
    if isinstance(exc, ApiError):
        code = getattr(exc.status, "code", None)
        if isinstance(code, int) and code:
            return code
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code
    return None


def server_message(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        message = getattr(exc.status, "message", None)
        if isinstance(message, str) and message:
            return message
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code} {exc.response.reason_phrase}".strip()
    return str(exc)


def is_forbidden(exc: BaseException) -> bool:
    return status_code(exc) == 403


def forbidden_text(request: Request) -> str:
    """``cannot list pods in the namespace "x": RBAC needs verb "list" ...``"""
    return f"cannot {request.verb} {request.target} {request.scope}: {request.rbac}"


def translate(exc: BaseException, request: Request, where: Where) -> StockadeError:
    """The stockade error to raise for ``exc``, met while making ``request``."""
    if isinstance(exc, httpx2.HTTPStatusError):
        return _http_error(exc, request, where)
    if isinstance(exc, httpx2.TimeoutException):
        return EnvironmentProblem(
            f"the Kubernetes API server at {where.server} ({where.label}) did not answer in "
            f"time while {_doing(request)}: {exc or type(exc).__name__}"
        )
    if isinstance(exc, httpx2.TransportError):
        return connect_error(exc, where)
    if isinstance(exc, ConfigError):
        return InputError(f"{where.label}: {exc}")
    if isinstance(exc, ssl.SSLError | OSError):
        return credentials_error(exc, where)
    return EnvironmentProblem(f"{where.label}: {_doing(request)} failed: {exc}")


def connect_error(exc: BaseException, where: Where) -> StockadeError:
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(cause, ssl.SSLCertVerificationError):
        return InputError(
            f"cannot verify the TLS certificate of the Kubernetes API server at "
            f"{where.server} ({where.label}): {text}; check certificate-authority or "
            "certificate-authority-data of the cluster in the kubeconfig"
        )
    return EnvironmentProblem(
        f"cannot reach the Kubernetes API server at {where.server} ({where.label}): {text}"
    )


def credentials_error(exc: BaseException, where: Where) -> InputError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    filename = getattr(exc, "filename", None)
    suffix = f" ({filename})" if filename else ""
    return InputError(f"{where.label}: cannot load the client certificate, key or certificate "
                      f"authority named in the kubeconfig: {reason}{suffix}")


def _doing(request: Request) -> str:
    return f"{'listing' if request.verb == 'list' else 'getting'} {request.target} " \
        f"{request.scope}"


def _http_error(exc: httpx2.HTTPStatusError, request: Request, where: Where) -> StockadeError:
    code = status_code(exc)
    said = server_message(exc)
    if code == 401:
        return InputError(
            f"the Kubernetes API server at {where.server} refused the credentials of "
            f"{where.label} (401 Unauthorized: {said}): the token is expired or invalid, or "
            "the client certificate is not accepted; refresh the credentials in the kubeconfig"
        )
    if code == 403:
        return InputError(f"{where.label}: {forbidden_text(request)} (server: {said})")
    if code == 404 and request.verb == "list":
        return InputError(
            f"the Kubernetes API server at {where.server} ({where.label}) does not serve "
            f"{request.resource.qualified} in {request.resource.api_version}: {said}"
        )
    if code == 404:
        return InputError(f"{where.label}: {request.target} not found ({said})")
    if code == 410:
        return EnvironmentProblem(
            f"{where.label}: the list of {request.resource.qualified} changed too much while "
            f"it was read page by page (410 Gone: {said}); run the command again"
        )
    return EnvironmentProblem(
        f"{where.label}: {_doing(request)} failed: {code} {said}"
    )
