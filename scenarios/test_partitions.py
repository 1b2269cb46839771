"""Partitions: a minority cut away, an even split, and a long partition with
catch-up. What must hold: the side with a quorum commits, the side without
one commits nothing, nobody forks, and everyone catches up after healing."""

import pytest

from scenarios_common import IN_FLIGHT_BLOCKS


@pytest.mark.testnet
def test_a_minority_partitioned_away_falls_behind_then_catches_up(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(5)
    c.partition([0, 1, 2], [3])
    cut_at = c.heights()
    c.run_for(20)
    during = c.heights()
    assert min(during[:3]) >= max(cut_at) + 5, (cut_at, during)  # the majority commits on
    assert during[3] <= cut_at[3] + IN_FLIGHT_BLOCKS, (cut_at, during)  # the minority cannot
    c.heal()
    c.run_until(lambda: c.heights()[3] >= min(during[:3]), timeout=30)
    c.run_for(5)
    assert min(c.heights()) > min(during[:3])
    c.check()


@pytest.mark.testnet
def test_an_even_split_stops_progress_without_a_fork_until_healed(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(5)
    c.partition([0, 1], [2, 3])
    cut_at = max(c.heights())
    c.run_for(10)
    assert max(c.heights()) <= cut_at + IN_FLIGHT_BLOCKS, c.heights()
    c.check()  # no fork while split
    c.heal()
    c.run_until(lambda: min(c.heights()) >= cut_at + 20, timeout=60)
    c.check()


def test_a_long_partition_then_catch_up(cluster):
    c = cluster(nodes=4)
    c.load(200)
    c.run_for(2)
    c.isolate(2)
    c.run_for(120)
    others = c.heights()
    assert min(others[:2] + others[3:]) >= others[2] + 40, others  # far behind
    c.heal()
    took = c.run_until(lambda: c.heights()[2] >= max(others), timeout=60)
    assert took < 60
    c.run_for(5)
    # It keeps up. (`catching_up` may be true for a moment even then: a
    # proposal that overtook its parent on the wire asks for the parent.)
    assert c.heights()[2] >= max(c.heights()) - 2, c.heights()
    c.check()
