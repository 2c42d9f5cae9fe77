"""The lab: a cluster's pods as network namespaces on this machine, its policies enforced by
the compiled nftables ruleset, its hosts files in place, flows probed with real packets.

Needs root, ``ip`` (iproute2) and ``nft``. Everything it creates is named ``stk-<lab>-...``.
"""
