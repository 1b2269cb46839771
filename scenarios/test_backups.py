"""Backup and restore: a node's ledger copied while it runs, then put back
after it ran on, so the node restarts lower than it was. What must hold: it
keeps its safety record, so it signs nothing twice (on the simulator the
checker sees every proposal, vote and timeout it sends), and it catches up
with the others without a fork."""
import pytest

from scenarios_common import KEEP_UP_BLOCKS


@pytest.mark.testnet
def test_a_node_restored_from_an_older_backup_signs_nothing_twice_and_catches_up(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_until(lambda: min(c.heights()) >= 20, timeout=30)
    backup = c.backup(2)
    c.run_for(10)
    c.crash(2)
    ahead = c.heights()[2]
    c.restore(2, backup)
    assert c.status(2).committed_height < ahead  # the ledger went back
    c.restart(2)
    c.run_until(lambda: c.heights()[2] >= ahead, timeout=60)
    c.run_for(3)
    assert c.heights()[2] >= max(c.heights()) - KEEP_UP_BLOCKS
    c.check()
