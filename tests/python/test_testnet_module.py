"""The synod module's testnet backend on real synod server processes: every
peer link goes through the cluster's proxies (an isolated node really is cut
off), every process stops with the cluster (also after a failed assertion,
and when the Python process itself is killed), what real processes cannot do
is NotSupported, and the outside checker reports a server that died by
itself."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from synod import InvariantViolation, NotSupported, ScenarioError, testnet

BUILD = os.environ.get("SYNOD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_an_isolated_node_is_cut_off_by_the_proxies_and_catches_up_after():
    with testnet.Cluster(nodes=4, seed=1) as c:
        c.load(100)
        c.run_until(lambda: min(c.heights()) >= 20, timeout=30)
        c.isolate(3)
        c.run_for(0.5)  # what was in flight lands
        cut_at = c.heights()
        # The three commit on (slowly: the cut node's turns as leader time out) ...
        c.run_until(lambda: min(c.heights()[:3]) >= max(cut_at) + 3, timeout=30)
        during = c.heights()
        # ... and the cut one hears none of it.
        assert during[3] <= cut_at[3] + 2, (cut_at, during)
        c.heal()
        c.run_until(lambda: c.heights()[3] >= min(during[:3]), timeout=30)
        c.check()


def test_pause_freezes_a_node_and_resume_lets_it_go_on():
    with testnet.Cluster(nodes=4, seed=2) as c:
        c.load(50)
        c.run_until(lambda: min(c.heights()) >= 10, timeout=30)
        c.pause(1)
        assert c.status(1).state == "paused"
        frozen = c.heights()[1]
        c.run_for(2)
        assert c.heights()[1] == frozen
        with pytest.raises(ScenarioError, match="not up"):
            c.pause(1)
        c.resume(1)
        c.run_until(lambda: c.heights()[1] > frozen + 5, timeout=30)
        c.check()


def test_submit_answers_as_the_node_did():
    with testnet.Cluster(nodes=4, seed=3, accounts=4) as c:
        c.run_until(lambda: min(c.heights()) >= 2, timeout=30)
        assert c.submit(via=2, from_account=0, to_account=1, amount=5).accepted
        # Admitted, then failed at execution: balances are checked when a block runs.
        assert c.submit(via=0, from_account=1, to_account=2, amount=10 ** 15).accepted
        c.run_until(lambda: c.committed_txs >= 1, timeout=10)
        c.run_for(1)
        assert c.committed_txs == 1
        # A node cut off long enough counts itself out of consensus and refuses.
        c.isolate(3)
        c.run_until(lambda: c.status(3).catching_up, timeout=60)
        refused = c.submit(via=3, from_account=2, to_account=0, amount=1)
        assert not refused.accepted and "NETWORK" in refused.error, refused
        with pytest.raises(ScenarioError, match="accounts are 0 to 3"):
            c.submit(via=0, from_account=0, to_account=4)


def test_what_real_processes_cannot_do_is_not_supported_and_bad_calls_are_errors():
    with testnet.Cluster(nodes=4, seed=4) as c:
        for call, says in [(lambda: c.set_loss(0.3), "TLS streams"), (lambda: c.skew_clock(0, 100), "no clock"),
                           (lambda: c.crash_before(0, "send"), "use the simulator"),
                           (lambda: c.equivocate(0), "use the simulator"),
                           (lambda: c.upgrade(0), "second synod build")]:
            with pytest.raises(NotSupported, match=says):
                call()
        with pytest.raises(ScenarioError, match="no node 7"):
            c.crash(7)
        with pytest.raises(ScenarioError, match="is up, not down"):
            c.restart(0)
        with pytest.raises(ScenarioError, match="in two groups"):
            c.partition([0, 1], [1, 2])
        c.crash(2)
        with pytest.raises(ScenarioError, match="node 2 is down"):
            c.crash(2)


def test_a_twin_is_a_second_server_with_the_key_and_a_second_twin_is_refused():
    with testnet.Cluster(nodes=4, seed=9) as c:
        c.run_until(lambda: min(c.heights()) >= 3, timeout=30)
        twin = c.compromise(1)
        assert twin == 4 and c.size == 5 and c.compromised_weight == 1
        s = c.status(twin)
        assert s.validator == 1 and not s.honest and s.state == "up"
        assert not c.status(1).honest and c.status(0).honest
        with pytest.raises(ScenarioError, match="already has a twin, node 4"):
            c.compromise(1)
        with pytest.raises(ScenarioError, match="no validator 4"):
            c.compromise(twin)
        # The twin catches up from its peers and commits with them.
        c.run_until(lambda: c.status(twin).committed_height >= max(c.heights()) - 10, timeout=30)
        c.crash(twin)
        c.run_for(1)
        c.check()


def test_every_process_stops_when_a_scenario_fails_inside_the_cluster():
    with pytest.raises(AssertionError, match="the scenario failed"):
        with testnet.Cluster(nodes=3, seed=5) as c:
            pids = [p.pid for p in c._processes]
            c.load(20)
            load_pid = c._load.pid
            folder = c.dir
            raise AssertionError("the scenario failed")
    assert not any(alive(pid) for pid in pids + [load_pid])
    assert not folder.exists()  # no violation: the temporary folder goes


def test_a_killed_scenario_takes_its_servers_with_it(tmp_path):
    program = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.path.join(BUILD, 'pybindings')!r})
        from synod import testnet
        c = testnet.Cluster(nodes=3, seed=6, dir={str(tmp_path / 'net')!r})
        print(" ".join(str(p.pid) for p in c._processes), flush=True)
        time.sleep(120)
    """)
    scenario = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "SYNOD_BUILD": BUILD})
    try:
        pids = [int(p) for p in scenario.stdout.readline().split()]
        assert len(pids) == 3 and all(alive(p) for p in pids)
    finally:
        scenario.kill()
        scenario.wait()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in pids)


def test_a_scenario_that_forgets_to_close_its_cluster_stops_its_servers_at_exit(tmp_path):
    program = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.join(BUILD, 'pybindings')!r})
        from synod import testnet
        c = testnet.Cluster(nodes=3, seed=10)
        print(c.dir, " ".join(str(p.pid) for p in c._processes), flush=True)
    """)  # never closed: the interpreter's exit must close it
    r = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "SYNOD_BUILD": BUILD})
    assert r.returncode == 0, r.stderr
    folder, *pids = r.stdout.split()
    assert len(pids) == 3 and not any(alive(int(p)) for p in pids)
    # Closed, not only killed with its parent: the temporary folder is gone.
    assert not os.path.exists(folder), folder


def test_a_server_that_dies_by_itself_is_a_violation_and_the_logs_are_kept():
    with testnet.Cluster(nodes=4, seed=7) as c:
        c.run_until(lambda: min(c.heights()) >= 5, timeout=30)
        os.kill(c._processes[2].pid, signal.SIGKILL)  # not through the cluster
        c.run_for(0.5)
        with pytest.raises(InvariantViolation) as raised:
            c.check()
        folder = c.dir
    v = raised.value
    assert v.invariant == "process" and v.nodes == [2] and v.backend == "testnet"
    assert str(folder) in v.command
    assert (folder / "node2" / "server.log").exists()  # kept for reading
    subprocess.run(["rm", "-rf", str(folder)], check=True)


def test_the_report_is_a_page_a_browser_renders(tmp_path):
    with testnet.Cluster(nodes=4, seed=8) as c:
        c.load(50)
        c.run_for(2)
        c.crash(1)
        c.run_for(1)
        c.restart(1)
        c.run_for(1)
        path = c.report(tmp_path / "testnet.html")
    r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"file://{path}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "synod testnet scenario, seed 8" in r.stdout and "passed" in r.stdout
    assert "crash 1" in r.stdout and "<polyline" in r.stdout
