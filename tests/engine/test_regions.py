"""ipBlock regions: two addresses share a canonical region exactly when every ipBlock
(cidr minus excepts) treats them alike, checked against ``ipaddress`` containment."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.engine.classes import Regions

Block = tuple[IPv4Network | IPv6Network, list[IPv4Network | IPv6Network]]


@st.composite
def v4_blocks(draw: st.DrawFn) -> Block:
    """A block inside 10.0.0.0/20 (small, so blocks overlap and share cuts), with excepts
    inside it."""
    prefix = draw(st.integers(20, 30))
    base = draw(st.integers(0, (1 << (prefix - 20)) - 1)) << (32 - prefix)
    net = IPv4Network((int(IPv4Address("10.0.0.0")) + base, prefix))
    excepts: list[IPv4Network | IPv6Network] = []
    for _ in range(draw(st.integers(0, 3))):
        sub = draw(st.integers(prefix + 1, 32))
        offset = draw(st.integers(0, (1 << (sub - prefix)) - 1)) << (32 - sub)
        excepts.append(IPv4Network((int(net.network_address) + offset, sub)))
    return net, excepts


def _inside(addr: IPv4Address | IPv6Address, block: Block) -> bool:
    net, excepts = block
    return (addr.version == net.version and addr in net
            and not any(addr in ex for ex in excepts if ex.version == addr.version))


@settings(max_examples=300, deadline=None)
@given(st.lists(v4_blocks(), max_size=12),
       st.lists(st.integers(0, (1 << 12) + 63), min_size=2, max_size=40))
def test_addresses_share_a_region_exactly_when_every_block_treats_them_alike(
        blocks: list[Block], offsets: list[int]) -> None:
    six: Block = (IPv6Network("fd00::/64"), [IPv6Network("fd00::/80")])
    blocks = [*blocks, *blocks[:2], six]  # repeated blocks too
    regions = Regions(blocks)
    start = int(IPv4Address("10.0.0.0")) - 32
    addrs: list[IPv4Address | IPv6Address] = [IPv4Address(start + o) for o in offsets]
    for net, excepts in blocks:  # every edge and the address before it
        for n in (net, *excepts):
            addrs += [n.network_address, n.broadcast_address]
            if int(n.network_address):
                addrs.append(ipaddress.ip_address(int(n.network_address) - 1))
    addrs += [IPv6Address("fd00::1"), IPv6Address("fd00:0:0:0:1::"), IPv6Address("fd01::")]
    for a in addrs:
        for b in addrs:
            if a.version != b.version:
                continue
            alike = all(_inside(a, blk) == _inside(b, blk) for blk in blocks)
            assert (regions.canonical(a) == regions.canonical(b)) == alike, (a, b)


def test_an_except_outside_its_block_cuts_nothing() -> None:
    """Validation refuses such an except, but the engine takes policies built in code too:
    an address outside every block must not share a region with one inside."""
    regions = Regions([(IPv4Network("10.0.0.0/24"), [IPv4Network("10.0.5.0/24")]),
                       (IPv4Network("10.0.9.0/24"), [])])
    inside, outside = IPv4Address("10.0.0.1"), IPv4Address("10.0.3.1")
    assert regions.canonical(inside) != regions.canonical(outside)
    assert regions.canonical(outside) == regions.canonical(IPv4Address("10.0.200.1"))
