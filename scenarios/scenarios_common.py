"""Margins the scenarios share, and why each is what it is."""

# Messages already on the wire when a partition or a crash starts still
# arrive: a side without a quorum may finish the round in flight, no more.
IN_FLIGHT_BLOCKS = 2

# "Keeps up": heights are read one node after another, and on a testnet a
# block commits every few milliseconds, so a node in step may read a few
# blocks behind the furthest.
KEEP_UP_BLOCKS = 10
