"""A bad network and bad clocks: 30% message loss, slow links, clocks
seconds apart. What must hold: progress, slower but steady, and no fork."""


def test_thirty_percent_message_loss_slows_but_does_not_stop_commits(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(5)
    clean = c.agreed_height
    c.set_loss(0.3)
    c.run_for(60)
    # Slow: a lost proposal, vote or timeout is not sent again, and rounds
    # that fail one after another grow their timeouts (docs/protocol.md).
    assert c.agreed_height > clean, (clean, c.agreed_height)
    c.set_loss(0)
    c.run_until(lambda: min(c.heights()) >= c.agreed_height, timeout=30)
    c.check()


def test_slow_links_still_commit(cluster):
    c = cluster(nodes=4)
    c.load(50)
    c.set_latency(200, 800)
    c.run_for(60)
    assert c.agreed_height >= 10
    c.check()


def test_clocks_seconds_apart_still_commit(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.skew_clock(1, 3000)
    c.skew_clock(2, -3000)
    c.skew_clock(3, 60_000)
    c.run_for(30)
    assert c.agreed_height >= 100
    assert max(c.heights()) - min(c.heights()) <= 3
    c.check()
