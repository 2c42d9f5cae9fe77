"""The node agent's table built at once for one node of the 10,000-pod cluster: what its
first sync compiles, without the agent process or the kernel.

``python -m benchmarks.node_table [--pods 10000] [--local 110] [--admin-policies 50
--baseline-policies 10]`` prints, as JSON: seconds to read the objects into the node's
rules, seconds to build the table and print it as one ``nft -f`` script, its rules,
elements and rule groups, and the process's peak resident memory. The cluster is
``agent_scale``'s (the same seed, the same 110 pods moved to the node).
"""

from __future__ import annotations

import json
import resource
import time

from benchmarks.agent_scale import NODE, _cluster, cluster_parser
from stockade.agent.objects import Objects
from stockade.engine.node_rules import NodeRules
from stockade.model.build import RawObject
from stockade.model.types import Origin
from stockade.nft.node import NodeTable


def main(argv: list[str] | None = None) -> int:
    args = cluster_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    docs = _cluster(args.pods, args.local, args.seed, args.admin_policies,
                    args.baseline_policies)
    listed: dict[str, list[RawObject]] = {}
    for doc in docs:
        listed.setdefault(doc["kind"], []).append(RawObject(doc, Origin("generated")))
    started = time.monotonic()
    objects = Objects(NodeRules(NODE))
    objects.load(listed)
    read = time.monotonic() - started
    started = time.monotonic()
    table = NodeTable(NODE)
    script = table.load(objects.rules).render()
    built = time.monotonic() - started
    sizes = table.sizes()
    print(json.dumps({
        "read_seconds": round(read, 2), "compile_seconds": round(built, 2),
        "script_mib": round(len(script) / 2**20, 1), "rules": sizes.rules,
        "elements": sizes.elements, "groups": sizes.groups,
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
