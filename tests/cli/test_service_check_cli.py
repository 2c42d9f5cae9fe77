"""``stockade check`` on Services the API server refuses: every error names the file, the
line, the Service and the field, exit 2, never a traceback; valid ones pass with exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.cli.main import main

GOOD = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  externalTrafficPolicy: Local
  sessionAffinity: ClientIP
  loadBalancerSourceRanges: [10.0.0.0/8]
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
"""
BAD = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}
  externalIPs: [127.0.0.1]
  internalTrafficPolicy: Node
  ports: [{port: 80, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: shop}
spec:
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10, 10.96.0.11]
  ipFamilyPolicy: RequireDualStack
  ports: [{port: 53, nodePort: [1]}]
"""


def test_valid_service_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert main(["check", str(path)]) == 0


def test_invalid_services_exit_2_naming_file_object_field(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    web, dns = f"error: {path}:1: Service shop/web: ", f"error: {path}:12: Service shop/dns: "
    lines = err.splitlines()
    assert lines[:4] == [
        web + "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be "
        "greater than 0 and less than 86400",
        web + 'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback '
        "range (127.0.0.0/8, ::1/128)",
        web + "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        web + 'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: '
        '"Cluster", "Local"',
    ]
    assert lines[4:] == [
        dns + 'spec.ports[0].nodePort: Invalid value: "array": must be of type integer',
        dns + 'spec.clusterIPs: Invalid value: []string{"10.96.0.10", "10.96.0.11"}: may '
        "specify no more than one IP for each IP family",
        "6 errors in 2 objects",
    ]
    assert "Traceback" not in err
