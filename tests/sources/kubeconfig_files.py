"""Kubeconfig files for the live-cluster tests, pointing at API server doubles.

Client certificates are written as files named relative to the kubeconfig (kubectl resolves
them against the kubeconfig's directory); tokens and CA data are inline.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
import yaml
from k8s_double import ApiServerDouble

TOKEN_BOB = "eyJhbGciOiJSUzI1NiJ9.bob-token"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Kubeconfigs:
    """Writes kubeconfig files into a temporary directory."""

    directory: Path
    ca: trustme.CA

    def client_cert_files(self, user: str) -> tuple[str, str]:
        """Certificate and key files for ``user``, named relative to the kubeconfig."""
        leaf = self.ca.issue_cert(common_name=user)
        certs = self.directory / "certs"
        certs.mkdir(exist_ok=True)
        (certs / f"{user}.crt").write_bytes(b"".join(b.bytes() for b in leaf.cert_chain_pems))
        (certs / f"{user}.key").write_bytes(leaf.private_key_pem.bytes())
        return f"certs/{user}.crt", f"certs/{user}.key"

    def write(self, name: str, data: dict[str, Any]) -> Path:
        path = self.directory / name
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return path

    def cluster(self, name: str, server: ApiServerDouble, *, trusted: bool = True
                ) -> dict[str, Any]:
        body: dict[str, Any] = {"server": server.url}
        if trusted:
            body["certificate-authority-data"] = b64(self.ca.cert_pem.bytes())
        return {"name": name, "cluster": body}

    def two_contexts(self, alpha: ApiServerDouble, beta: ApiServerDouble,
                     name: str = "config") -> Path:
        """Context alpha (current; client certificate files) and beta (bearer token)."""
        cert, key = self.client_cert_files("alice")
        return self.write(name, {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "current-context": "alpha",
            "clusters": [self.cluster("alpha", alpha), self.cluster("beta", beta)],
            "users": [
                {"name": "alice", "user": {"client-certificate": cert, "client-key": key}},
                {"name": "bob", "user": {"token": TOKEN_BOB}},
            ],
            "contexts": [
                {"name": "alpha", "context": {"cluster": "alpha", "user": "alice"}},
                {"name": "beta", "context": {"cluster": "beta", "user": "bob",
                                             "namespace": "staging"}},
            ],
        })

    def one(self, server: ApiServerDouble, user: dict[str, Any], *, trusted: bool = True,
            name: str = "one") -> Path:
        return self.write(name, {
            "apiVersion": "v1", "kind": "Config", "current-context": "only",
            "clusters": [self.cluster("c", server, trusted=trusted)],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "only", "context": {"cluster": "c", "user": "u"}}],
        })
