"""Weighted rosters: whether progress stops is a matter of weight, not of
node count. In a 1,1,1,2 roster (W = 5, quorum 4 = more than 2W/3), losing
the validator of weight 2 leaves 3 and stops commits; losing one of weight 1
leaves 4 and they go on."""

import pytest

from scenarios_common import IN_FLIGHT_BLOCKS


@pytest.mark.testnet
def test_the_heavy_validator_crashing_stops_progress_a_light_one_does_not(cluster):
    c = cluster(weights=[1, 1, 1, 2])
    c.load(100)
    c.run_for(3)
    c.crash(3)  # weight 2: 3 of 5 left, below the quorum of 4
    stopped_at = max(c.heights())
    c.run_for(10)
    assert max(c.heights()) <= stopped_at + IN_FLIGHT_BLOCKS, c.heights()
    c.restart(3)
    c.run_until(lambda: min(c.heights()) >= stopped_at + 10, timeout=60)
    c.crash(0)  # weight 1: 4 of 5 left, a quorum
    going = max(c.heights())
    c.run_for(20)
    assert min(c.heights()[1:]) >= going + 5, c.heights()
    c.check()
