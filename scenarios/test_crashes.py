"""Crashes: the leader of round after round, a rolling restart of every node
under load, and a crash between every two steps of a node's driver (between
persisting a vote and sending it, for one). What must hold: one crashed node
of four never stops the others, a restarted node rejoins from its own store,
and nobody forks or loses what it acknowledged (the checker's durability
invariant)."""
import pytest

from scenarios_common import KEEP_UP_BLOCKS

from synod._cluster import DRIVER_STEPS


def test_the_leader_of_round_after_round_crashed_for_a_while(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(3)
    start = c.agreed_height
    for _ in range(12):
        leader = c.status(0 if c.status(0).state == "up" else 1).leader
        c.crash(leader)  # refused if it were not up: it is the live leader
        c.run_for(2)
        c.restart(leader)
        c.run_for(1)
    assert c.agreed_height >= start + 10, (start, c.agreed_height)
    c.run_until(lambda: min(c.heights()) >= c.agreed_height, timeout=30)
    c.check()


@pytest.mark.testnet
def test_a_rolling_restart_of_every_node_under_load(cluster):
    c = cluster(nodes=4)
    rate = 200
    c.load(rate)
    c.run_for(3)
    before, started = c.committed_txs, c.now()
    for i in range(c.nodes):
        c.crash(i)
        down_at = c.heights()[i]
        c.run_for(3)
        assert c.heights()[i] == down_at  # a crashed node commits nothing
        c.restart(i)
        c.run_until(lambda: c.heights()[i] >= max(c.heights()) - KEEP_UP_BLOCKS, timeout=30)
    # Transactions sent to a node as it crashed are lost; their clients resend.
    c.run_for(10)
    # A third of the offered load at least, over the whole restart (the
    # simulator commits about 0.6 of it, seeds 1..100; a testnet as much).
    assert c.committed_txs - before >= rate * (c.now() - started) / 3, (before, c.committed_txs, c.now())
    assert max(c.heights()) - min(c.heights()) <= KEEP_UP_BLOCKS, c.heights()
    c.check()


@pytest.mark.parametrize("step", DRIVER_STEPS)
def test_a_crash_before_each_driver_step_loses_nothing_and_signs_nothing_twice(cluster, step):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(2)
    for round_trip in range(8):
        node = round_trip % c.nodes
        c.crash_before(node, step)
        c.run_until(lambda: c.status(node).state == "down", timeout=5)
        c.run_for(0.5)
        c.restart(node)
        c.run_for(1)
    c.run_until(lambda: min(c.heights()) >= c.agreed_height, timeout=30)
    recovered = c.agreed_height
    c.run_for(5)
    assert c.agreed_height >= recovered + 10, (recovered, c.agreed_height)
    c.check()
