"""Every lint check by its stable ID: severity, whether it runs by default, a one-line
summary, the help text (SARIF rules, ``--help``, the README) and a minimal example.

IDs never change meaning once published; a retired check keeps its ID reserved.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.lint.findings import Severity


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    severity: Severity
    summary: str
    help: str
    default: bool = True


ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

CHECKS: tuple[Check, ...] = (
    Check("policy-selects-nothing", WARN,
          "the policy's podSelector matches no pod or workload of the input",
          "A NetworkPolicy whose podSelector matches nothing isolates and allows nothing. "
          "Reported only when the input has pods or workloads in the policy's namespace; "
          "the closest labels that do exist are named."),
    Check("peer-selects-nothing", WARN,
          "a peer's podSelector or namespaceSelector matches nothing in the input",
          "A from/to peer whose selectors match no namespace or no pod allows nothing, "
          "usually because of a typo in a label. The closest existing labels are named. "
          "Pods are looked for only in namespaces that have pods in the input, and a "
          "namespaceSelector is judged only when the labels of every namespace are known."),
    Check("rules-ignored-by-policy-types", ERR,
          "rules of a direction that policyTypes does not list: they have no effect",
          "When spec.policyTypes is given, rules of a direction it does not list are "
          "ignored: egress rules without Egress, ingress rules without Ingress."),
    Check("egress-blocks-dns", WARN,
          "pods isolated for egress cannot reach a DNS server on UDP 53 and TCP 53",
          "Pods isolated for egress need an egress rule to a DNS server: kube-dns (pods "
          "labelled k8s-app=kube-dns in kube-system, assumed to exist when the input has "
          "none) or any address outside the cluster, on UDP 53 and TCP 53 (TCP carries "
          "answers too large for UDP). Without it name resolution breaks."),
    Check("named-port-undeclared", WARN,
          "a named port that none of the rule's destinations declares (with that protocol)",
          "A named port resolves on the destination pod: the selected pods for ingress "
          "rules, the peers for egress rules. When none of them declares a container port "
          "of that name and protocol, the port entry matches nothing."),
    Check("redundant-rule", INFO,
          "everything the rule allows is allowed by other rules: removing it changes nothing",
          "Proven on the engine's connectivity: for every pod the policy selects and every "
          "peer (pods of the input and addresses outside them), the rule allows no port that "
          "the other rules of the policies selecting that pod do not also allow; with "
          "cluster-wide policies, once the tiers are applied in order (an Admin rule that "
          "decides first can make a rule redundant)."),
    Check("redundant-policy", INFO,
          "removing the policy changes no connection",
          "Proven on the engine's connectivity, isolation included: every pod the policy "
          "selects is isolated by other policies in the same directions, and they allow "
          "everything it allows. Policies without rules (default denies) are never reported: "
          "they guard pods that do not exist yet."),
    Check("ipblock-covers-pods", WARN,
          "an ipBlock contains pod IPs of the input: not portable between network plugins",
          "Whether an ipBlock matches traffic of pods (rather than of addresses outside the "
          "cluster) differs between network plugins, so a policy that relies on it behaves "
          "differently elsewhere. Select those pods with pod and namespace selectors, and "
          "exclude the pod network from the block."),
    Check("allow-all-rule", INFO,
          "a rule open to every source or destination",
          "A rule without from/to (ingress: [{}], or only ports), or a peer that matches "
          "everything (namespaceSelector: {}, ipBlock 0.0.0.0/0 or ::/0), opens its "
          "direction to every pod or address. Sometimes intended; always worth a look."),
    Check("namespace-without-default-deny", INFO,
          "a namespace where some pod is isolated in no direction",
          "A namespace whose pods are not all selected by some policy (typically a default "
          "deny: podSelector {}, policyTypes [Ingress, Egress]) leaves those pods open. Off "
          "by default: --enable namespace-without-default-deny.", default=False),
    Check("hostaliases-shadowed", WARN,
          "a hostAliases name that never resolves as written",
          "The kubelet writes the pod's own name and the localhost names before the "
          "aliases, and resolvers use the first line naming a host: a hostname listed "
          "twice, or an alias for the pod's own hostname or a localhost name pointing "
          "elsewhere, is shadowed."),
    Check("egress-policy-isolates-ingress", WARN,
          "policyTypes defaulted to [Ingress, Egress] on a policy with egress rules only",
          "Without spec.policyTypes, a policy with egress rules also lists Ingress, so with "
          "no ingress rules it denies all ingress to the pods it selects. Reported when no "
          "other policy isolates those pods for ingress. Set policyTypes: [Egress] if only "
          "egress was meant, or [Ingress, Egress] to make the deny explicit."),
    Check("cluster-priority-overlap", WARN,
          "two cluster-wide policies of one tier at one priority whose rules overlap",
          "Upstream leaves the order of two AdminNetworkPolicies (or ClusterNetworkPolicies "
          "of one tier) with the same priority to the network plugin. When both select a "
          "pod and a rule of each matches the same peer and port, the outcome (or, for the "
          "same action, the rule that decides) may differ between plugins; stockade orders "
          "them by name. Give them different priorities."),
    Check("ipblock-host-bits", WARN,
          "an ipBlock cidr with host bits set",
          "The API server accepts 10.0.0.5/24 and reads it as 10.0.0.0/24: the whole "
          "network, not the one address. Write the network address, or a /32 (/128)."),
)

BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}
DEFAULT_IDS: frozenset[str] = frozenset(c.id for c in CHECKS if c.default)
