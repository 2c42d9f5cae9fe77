"""Services resolved to backends and target ports, and answered per backend by the engine."""

from __future__ import annotations

import pytest

from stockade.engine import Engine
from stockade.engine.services import (
    ALLOWED,
    DENIED,
    NO_BACKENDS,
    PARTIALLY,
    ServiceRef,
    Unresolvable,
    backends,
    check_resolvable,
    find_service,
    parse_service_ref,
    query_service,
    reach_columns,
    service_columns,
    service_port,
    target_port,
)
from stockade.errors import InputError, UsageError
from stockade.model.build import build_cluster
from stockade.model.types import (
    Cluster,
    Container,
    ContainerPort,
    ObjectMeta,
    Pod,
    PodSpec,
    Protocol,
    Service,
    ServicePort,
)
from stockade.model.workloads import choose_endpoints, with_endpoints
from stockade.sources.files import parse_text

SHOP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api, track: stable}}
  template:
    metadata: {labels: {app: api, track: stable}}
    spec:
      containers:
      - name: api
        image: api
        ports: [{name: http, containerPort: 8000}, {name: dns, containerPort: 5353, protocol: UDP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: canary, namespace: shop}
spec:
  selector: {matchLabels: {app: api, track: canary}}
  template:
    metadata: {labels: {app: api, track: canary}}
    spec:
      containers:
      - name: api
        image: api
        ports: [{name: http-alt, containerPort: 8001}, {name: dns, containerPort: 5353}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: lookalike, namespace: other, labels: {app: api}}
spec: {containers: [{name: c, image: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: direct, port: 8000, targetPort: 8000}
  - {name: same, port: 8001}
  - {name: dns, port: 53, targetPort: dns, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 5353, protocol: TCP}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 8000}, {port: 8001}]
"""


def engine_for(text: str, *, per_pod: bool = False) -> Engine:
    result = build_cluster(parse_text(text, "shop.yaml"))
    assert not result.findings, [str(f) for f in result.findings]
    endpoints = choose_endpoints(result.cluster, per_pod=per_pod)
    return Engine(with_endpoints(result.cluster, endpoints))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return engine_for(SHOP)


def api(engine: Engine) -> Service:
    return find_service(engine.cluster.services, ServiceRef("shop", "api"))


def port_of(engine: Engine, text: str) -> ServicePort:
    ref = parse_service_ref(text)
    assert ref is not None
    return service_port(api(engine), ref)


def test_parse_service_ref_forms() -> None:
    assert parse_service_ref("shop/web") is None
    assert parse_service_ref("svc/shop/db:5432") == ServiceRef("shop", "db", "5432")
    assert parse_service_ref("svc/shop/db:postgres") == ServiceRef("shop", "db", "postgres")
    assert parse_service_ref("svc/kube-system/dns:53/udp") == ServiceRef(
        "kube-system", "dns", "53", Protocol.UDP)
    assert parse_service_ref("svc/shop/db") == ServiceRef("shop", "db")


@pytest.mark.parametrize("text", ["svc/db", "svc//db:1", "svc/shop/", "svc/a/b/c:1"])
def test_malformed_service_refs_say_the_form(text: str) -> None:
    with pytest.raises(UsageError, match=r"a Service is named svc/NAMESPACE/NAME\[:PORT\]"):
        parse_service_ref(text)


def test_bad_protocol_in_a_service_ref() -> None:
    with pytest.raises(UsageError, match="protocol must be TCP, UDP or SCTP"):
        parse_service_ref("svc/a/b:53/icmp")


def test_service_port_by_number_and_by_name(engine: Engine) -> None:
    assert port_of(engine, "svc/shop/api:80").name == "http"
    assert port_of(engine, "svc/shop/api:direct").port == 8000
    assert port_of(engine, "svc/shop/api:53/UDP").name == "dns"
    assert port_of(engine, "svc/shop/api:dns-tcp").protocol == "TCP"


def test_service_port_errors(engine: Engine) -> None:
    with pytest.raises(UsageError, match=r"svc/shop/api:53 matches ports dns \(UDP\) and "
                       r"dns-tcp \(TCP\): add /TCP, /UDP or /SCTP, or use the port name"):
        port_of(engine, "svc/shop/api:53")
    with pytest.raises(InputError, match=r"Service shop/api has no port '9999' \(its ports: "
                       r"http 80/TCP, direct 8000/TCP, same 8001/TCP, dns 53/UDP, "
                       r"dns-tcp 53/TCP\)"):
        port_of(engine, "svc/shop/api:9999")
    with pytest.raises(UsageError, match=r"Service shop/api has ports .*: name one, e\.g\. "
                       r"svc/shop/api:80"):
        port_of(engine, "svc/shop/api")


def test_a_single_port_service_needs_no_port_in_the_reference() -> None:
    service = Service(ObjectMeta("db", "shop"), (("app", "db"),), (ServicePort(5432),))
    assert service_port(service, ServiceRef("shop", "db")).port == 5432


def test_unknown_service_lists_the_namespace_services(engine: Engine) -> None:
    with pytest.raises(InputError, match=r"no Service shop/nope in the input \(Services in "
                       r"shop: shop/api\)"):
        find_service(engine.cluster.services, ServiceRef("shop", "nope"))


def _pod(*ports: ContainerPort) -> Pod:
    return Pod(ObjectMeta("p", "ns"), PodSpec(containers=(Container("c", ports),)))


def test_target_port_resolution() -> None:
    pod = _pod(ContainerPort(8080, "TCP", "http"), ContainerPort(53, "UDP", "dns"))
    assert target_port(pod, ServicePort(80)) == (80, "")
    assert target_port(pod, ServicePort(80, 9090)) == (9090, "")
    assert target_port(pod, ServicePort(80, "9090")) == (9090, "")
    assert target_port(pod, ServicePort(80, "http")) == (8080, "")
    assert target_port(pod, ServicePort(53, "dns", "UDP")) == (53, "")
    assert target_port(pod, ServicePort(53, "dns", "TCP")) == (
        None, "declares port 'dns' as UDP, not TCP: not a backend for this port")
    assert target_port(pod, ServicePort(80, "web")) == (
        None, "declares no container port named 'web': not a backend for this port")


def test_a_target_port_of_zero_or_empty_is_the_services_port() -> None:
    """The API server defaults ``targetPort: 0`` and ``targetPort: ""`` to ``port``
    (``SetDefaults_Service``), as validation here already reads them; the empty name once
    matched the first unnamed container port, and 0 was port 0 (a review's hunt)."""
    pod = _pod(ContainerPort(7000, "TCP"), ContainerPort(8080, "TCP", "http"))
    assert target_port(pod, ServicePort(80, 0)) == (80, "")
    assert target_port(pod, ServicePort(80, "")) == (80, "")
    assert target_port(pod, ServicePort(53, 0, "UDP")) == (53, "")


@pytest.mark.parametrize("policy", ["", "OnFailure", "always"])
def test_named_target_port_ignores_init_containers(policy: str) -> None:
    pod = Pod(ObjectMeta("p", "ns"), PodSpec(
        containers=(Container("c"),),
        init_containers=(Container("i", (ContainerPort(8080, "TCP", "http"),),
                                   restart_policy=policy),)))
    assert target_port(pod, ServicePort(80, "http"))[0] is None


def test_named_target_port_finds_a_native_sidecars_port_after_the_containers() -> None:
    """``FindPort`` looks in the regular containers, then in the init containers with
    ``restartPolicy: Always`` (native sidecars, which run beside them), each by name and
    protocol."""
    sidecar = Container("proxy", (ContainerPort(15001, "TCP", "http"),
                                  ContainerPort(15053, "UDP", "dns")), restart_policy="Always")
    pod = Pod(ObjectMeta("p", "ns"), PodSpec(
        containers=(Container("app", (ContainerPort(8080, "TCP", "http"),
                                      ContainerPort(53, "TCP", "dns"))),),
        init_containers=(sidecar,)))
    assert target_port(pod, ServicePort(80, "http")) == (8080, "")  # the container's first
    assert target_port(pod, ServicePort(53, "dns", "UDP")) == (15053, "")
    alone = Pod(ObjectMeta("p", "ns"), PodSpec(containers=(Container("app"),),
                                               init_containers=(sidecar,)))
    assert target_port(alone, ServicePort(80, "http")) == (15001, "")
    assert [p.container_port for p in pod.serving_ports()] == [8080, 53, 15001, 15053]
    assert [p.container_port for p in pod.container_ports()] == [8080, 53]  # named ports


def test_a_service_reaches_a_sidecars_named_port_from_manifests() -> None:
    engine = engine_for("""\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a, labels: {app: p}}
spec:
  initContainers:
  - {name: proxy, image: envoy, restartPolicy: Always, ports: [{name: web, containerPort: 8080}]}
  containers: [{name: app, image: app}]
status: {podIP: 10.0.0.5}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: a}
spec:
  selector: {app: p}
  ports: [{port: 80, targetPort: web}]
""")
    [service] = engine.cluster.services
    [backend] = backends(service, service.ports[0], engine.pods)
    assert (backend.port, backend.problem) == (8080, "")


def test_backends_are_selected_in_the_service_namespace(engine: Engine) -> None:
    found = backends(api(engine), port_of(engine, "svc/shop/api:http"), engine.pods)
    assert [(b.pod.key, b.port) for b in found] == [("shop/Deployment/api", 8000),
                                                    ("shop/Deployment/canary", None)]
    assert "no container port named 'http'" in found[1].problem


def test_query_by_named_target_port_skips_the_backend_lacking_it(engine: Engine) -> None:
    web = engine.endpoint("shop/Deployment/web")
    answer = query_service(engine, web, api(engine), port_of(engine, "svc/shop/api:http"))
    assert (answer.outcome, answer.reachable, answer.usable) == (ALLOWED, 1, 1)
    assert answer.allowed
    assert answer.answers[1].verdict is None
    verdict = answer.answers[0].verdict
    assert verdict is not None and verdict.traffic.port == 8000


def test_query_by_number_reaches_every_backend_on_the_same_port(engine: Engine) -> None:
    web = engine.endpoint("shop/Deployment/web")
    answer = query_service(engine, web, api(engine), port_of(engine, "svc/shop/api:8001"))
    # No targetPort: port 8001 on both; the policy allows 8000 and 8001 from web.
    assert [a.backend.port for a in answer.answers] == [8001, 8001]
    assert answer.outcome == ALLOWED


def test_partially_and_denied(engine: Engine) -> None:
    canary = engine.endpoint("shop/Deployment/canary")
    direct = query_service(engine, canary, api(engine), port_of(engine, "svc/shop/api:direct"))
    # The canary reaches itself (always) but not the stable api.
    assert [a.verdict.allowed for a in direct.answers if a.verdict] == [False, True]
    assert direct.outcome == PARTIALLY and not direct.allowed
    outside = engine.endpoint("203.0.113.9")
    denied = query_service(engine, outside, api(engine), port_of(engine, "svc/shop/api:direct"))
    assert denied.outcome == DENIED


def test_udp_service_port_resolves_per_protocol(engine: Engine) -> None:
    outside = engine.endpoint("203.0.113.9")
    answer = query_service(engine, outside, api(engine), port_of(engine, "svc/shop/api:dns"))
    # api declares dns as UDP 5353; the canary declares it as TCP: not a UDP backend.
    assert [(a.backend.pod.key, a.backend.port) for a in answer.answers] == [
        ("shop/Deployment/api", 5353), ("shop/Deployment/canary", None)]
    assert answer.outcome == DENIED  # api is isolated for ingress; UDP 5353 is not allowed


def test_a_selector_matching_nothing_has_no_backends() -> None:
    text = SHOP.replace("selector: {app: api}", "selector: {app: gone}")
    engine = engine_for(text)
    answer = query_service(engine, engine.endpoint("shop/Deployment/web"), api(engine),
                           port_of(engine, "svc/shop/api:http"))
    assert answer.answers == () and answer.outcome == NO_BACKENDS and not answer.allowed


def test_backends_are_the_pods_when_the_input_has_them() -> None:
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: api-{i}, namespace: shop, "
        f"labels: {{app: api, track: stable}}}}\nspec: {{containers: [{{name: api, image: a, "
        f"ports: [{{name: http, containerPort: 8000}}]}}]}}\nstatus: {{podIP: 10.0.0.{i}}}\n"
        for i in (1, 2))
    engine = engine_for(SHOP + pods, per_pod=True)
    found = backends(api(engine), port_of(engine, "svc/shop/api:http"), engine.pods)
    assert [b.pod.key for b in found] == ["shop/api-1", "shop/api-2", "shop/Deployment/canary"]
    # Without --per-pod too: a workload's pods in the input stand for it (they have the
    # IPs); only the names in outputs differ. The canary has no pod here: its template.
    default = engine_for(SHOP + pods)
    found = backends(api(default), port_of(default, "svc/shop/api:http"), default.pods)
    assert [b.pod.key for b in found] == ["shop/api-1", "shop/api-2", "shop/Deployment/canary"]


def test_external_name_and_selectorless_services_cannot_be_resolved() -> None:
    external = Service(ObjectMeta("pay", "shop"), None, (), "ExternalName", "pay.example.com")
    with pytest.raises(Unresolvable, match=r"Service shop/pay \(<input>\) is of type "
                       r"ExternalName \(pay.example.com\): it is a DNS alias outside the "
                       "cluster, and cannot be resolved to pods from manifests"):
        check_resolvable(external)
    manual = Service(ObjectMeta("erp", "shop"), None, (ServicePort(443),))
    with pytest.raises(Unresolvable, match=r"has no selector: its endpoints are managed by "
                       r"hand \(EndpointSlices\) and cannot be resolved from manifests alone"):
        check_resolvable(manual)
    empty = Service(ObjectMeta("erp", "shop"), (), (ServicePort(443),))
    with pytest.raises(Unresolvable, match="has no selector"):
        check_resolvable(empty)


def test_service_columns_and_reach_for_the_matrix(engine: Engine) -> None:
    cluster: Cluster = engine.cluster
    columns = service_columns(cluster.services, engine.pods)
    assert [c.key for c in columns] == ["svc/shop/api:http", "svc/shop/api:direct",
                                        "svc/shop/api:same", "svc/shop/api:dns",
                                        "svc/shop/api:dns-tcp"]
    rows = [(p.key,) for p in engine.pods]
    reaches = reach_columns(engine, columns, rows)
    names = [p.key for p in engine.pods]
    web, canary = names.index("shop/Deployment/web"), names.index("shop/Deployment/canary")
    http, direct = reaches[0], reaches[1]
    assert http.outcome(web) == ALLOWED and http.reached[web] == ("shop/Deployment/api",)
    assert direct.outcome(canary) == PARTIALLY
    assert direct.reached[canary] == ("shop/Deployment/canary",)
    # Agrees with the per-connection engine for every row and column.
    for reach in reaches:
        port = reach.column.port
        assert port is not None
        for row, key in enumerate(names):
            answer = query_service(engine, engine.endpoint(key), reach.column.service, port)
            assert reach.outcome(row) == answer.outcome, (reach.column.key, key)


def test_unresolvable_services_become_columns_with_a_problem() -> None:
    external = Service(ObjectMeta("pay", "shop"), None, (), "ExternalName", "pay.example.com")
    bad = Service(ObjectMeta("odd", "shop"), (("a", "b"),), (ServicePort(1, None, "ICMP"),))
    columns = service_columns([external, bad], [])
    assert [(c.key, c.port) for c in columns] == [("svc/shop/pay", None),
                                                  ("svc/shop/odd:1", ServicePort(1, None, "ICMP"))]
    assert "ExternalName" in columns[0].problem
    assert "protocol 'ICMP' is not TCP, UDP or SCTP" in columns[1].problem
