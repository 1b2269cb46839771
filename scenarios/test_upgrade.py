"""A flag-day upgrade: validators move to the next protocol version one at a
time, and peers on different versions refuse each other's links. What must
hold: while a quorum of weight runs one version, that side commits and the
rest wait; with the roster split evenly nobody commits; once everyone has
upgraded, everyone commits again; never a fork."""

import pytest

from scenarios_common import IN_FLIGHT_BLOCKS
from synod import ScenarioError


def upgrade(c, i):
    c.crash(i)
    c.upgrade(i)
    c.restart(i)


def test_a_rolling_flag_day_upgrade(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(3)

    upgrade(c, 0)  # 1 new, 3 old: the old quorum goes on, the new node waits
    at = c.heights()
    c.run_for(20)
    now = c.heights()
    # Slowly: the new node's turns as leader end in timeouts for the others.
    assert min(now[1:]) >= max(at) + IN_FLIGHT_BLOCKS + 2 and now[0] <= at[0] + IN_FLIGHT_BLOCKS, (at, now)
    assert c.refused_version > 0

    upgrade(c, 1)  # 2 and 2: no side holds a quorum of 3
    stalled = max(c.heights())
    c.run_for(10)
    assert max(c.heights()) <= stalled + IN_FLIGHT_BLOCKS, c.heights()

    upgrade(c, 2)  # 3 new: they commit, the last old node waits
    at = c.heights()
    c.run_until(lambda: min(c.heights()[:3]) >= max(at) + IN_FLIGHT_BLOCKS + 2, timeout=60)
    assert c.heights()[3] <= at[3] + IN_FLIGHT_BLOCKS

    upgrade(c, 3)
    assert [c.version(i) for i in range(4)] == [2, 2, 2, 2]
    c.run_until(lambda: c.heights()[3] >= max(c.heights()) - 2 > max(at) + 10, timeout=60)
    c.check()


def test_an_upgrade_of_a_running_node_is_refused(cluster):
    c = cluster(nodes=4)
    with pytest.raises(ScenarioError, match="crash it first"):
        c.upgrade(0)
