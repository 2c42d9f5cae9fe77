"""``stockade agent``: enforce NetworkPolicy on one node of a live cluster, as a DaemonSet.

Thin by design: the watches are a source (``sources.watch``), what the node's pods must be
allowed is the engine's (``engine.node_rules``), turning that into nftables transactions is
the compiler's (``nft.node``), and running them is ``nft.apply``. This package holds the
loop that joins them (``loop``), its HTTP endpoints (``health``), metrics (``metrics``),
logs (``log``), the translation of API objects into changes (``objects``) and the bridge
settings of the node (``bridge``).
"""
