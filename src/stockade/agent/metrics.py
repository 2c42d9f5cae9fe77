"""The agent's Prometheus metrics, in a registry of its own (``prometheus_client``).

Names say what an operator asks: how long a change in the API takes to reach the kernel,
how big the ruleset is, how nft transactions go, how the watches go, what the agent knows.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# From a millisecond to a minute: an update is milliseconds, a first load at scale seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.event_to_kernel = Histogram(
            "stockade_agent_event_to_kernel_seconds",
            "Time from receiving a watch event (or a list) to its ruleset change being loaded "
            "in the kernel.", ["kind"], buckets=LATENCY_BUCKETS, registry=r)
        self.transaction_seconds = Histogram(
            "stockade_agent_nft_transaction_seconds",
            "Duration of nft -f transactions, incremental or whole-table.", ["type"],
            buckets=LATENCY_BUCKETS, registry=r)
        self.transaction_failures = Counter(
            "stockade_agent_nft_transaction_failures_total",
            "nft -f transactions the kernel refused.", ["type"], registry=r)
        self.elements_changed = Counter(
            "stockade_agent_nft_elements_changed_total",
            "Set elements added and deleted by incremental transactions.", ["change"],
            registry=r)
        self.ruleset_rules = Gauge("stockade_agent_ruleset_rules",
                                   "Rules in the loaded table.", registry=r)
        self.ruleset_elements = Gauge("stockade_agent_ruleset_elements",
                                      "Set and map elements in the loaded table.", registry=r)
        self.ruleset_groups = Gauge("stockade_agent_ruleset_groups",
                                    "Rule groups (chains) of the node's pods.", registry=r)
        self.watch_restarts = Counter(
            "stockade_agent_watch_restarts_total",
            "Watches restarted after a failure (the server unreachable, an error, 410 Gone).",
            ["kind"], registry=r)
        self.relists = Counter("stockade_agent_relists_total",
                               "Lists after the first (after 410 Gone).", ["kind"], registry=r)
        self.watch_events = Counter("stockade_agent_watch_events_total",
                                    "Watch events received.", ["kind"], registry=r)
        self.objects = Gauge("stockade_agent_objects", "Objects known, by kind.", ["kind"],
                             registry=r)
        self.local_pods = Gauge("stockade_agent_local_pods",
                                "Pod-network pods of this node.", registry=r)
        self.api_reachable = Gauge(
            "stockade_agent_api_reachable",
            "1 while every watch works, 0 while the API cannot be read (the last known "
            "state stays enforced).", registry=r)
        self.synced = Gauge("stockade_agent_synced",
                            "1 once the first complete list is loaded into the kernel.",
                            registry=r)
        self.resyncs = Counter("stockade_agent_resyncs_total",
                               "Periodic comparisons of the loaded table with the intended one.",
                               registry=r)
        self.repairs = Counter(
            "stockade_agent_resync_repairs_total",
            "Resyncs that found the loaded table changed behind the agent's back (drift) "
            "and loaded it whole again.", registry=r)
        self.applied_version = Gauge(
            "stockade_agent_applied_resource_version",
            "The highest resourceVersion, per kind, whose change is loaded in the kernel "
            "(when the API's resourceVersions are numbers, as etcd's are).", ["kind"],
            registry=r)
        self.bridge_nf_call = Gauge(
            "stockade_agent_bridge_nf_call",
            "net.bridge.bridge-nf-call-iptables (family 4) / -ip6tables (6) in the node's "
            "namespace: 1 on, 0 off or unavailable.", ["family"], registry=r)
