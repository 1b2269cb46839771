"""The synod Python module's simulator backend as a scenario writer meets it:
typed errors for bad arguments, a recording that synod-sim replays to the same
trace, the GIL released while virtual time runs, a predicate's exception
stopping a run cleanly, and a report a browser can open."""
import os
import re
import subprocess
import threading
import time

import pytest

import synod
from synod import sim
from synod import BoundWarning, InvariantViolation, NotSupported, RunTimeout, ScenarioError
from synod._cluster import ClusterBase

BUILD = os.environ.get("SYNOD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SYNOD_SIM = os.path.join(BUILD, "sim", "synod-sim")


def busy_cluster(seed=5):
    c = sim.Cluster(nodes=4, seed=seed)
    c.load(100)
    c.run_for(2)
    c.partition([0, 1, 2], [3])
    c.run_for(2)
    c.crash(1)
    c.submit(via=0, from_account=2, to_account=3, amount=7)
    c.run_for(1.5)
    c.restart(1)
    c.heal()
    c.skew_clock(2, -400)
    c.set_loss(0.05)
    c.run_until(lambda: min(c.heights()) >= 60, timeout=30)
    return c


def test_the_readme_example_runs_as_written():
    with sim.Cluster(nodes=4, seed=7) as c:
        c.load(tx_per_s=200)
        c.run_for(10)
        c.partition([0, 1], [2, 3])
        c.run_for(30)
        c.heal()
        c.run_until(lambda: min(c.heights()) >= 50, timeout=60)
        c.check()
        assert min(c.heights()) >= 50


def test_synod_sim_replays_a_recording_to_the_same_trace(tmp_path):
    c = busy_cluster()
    path = c.save_recording(tmp_path / "run.scenario")
    r = subprocess.run([SYNOD_SIM, "--replay", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"trace {c.trace_hash:016x}" in r.stdout, r.stdout
    assert f"agreed height {c.agreed_height}" in r.stdout
    # The same replay in process.
    replayed = sim.replay(path.read_text())
    assert replayed["trace_hash"] == replayed["recorded_hash"] == c.trace_hash


def test_a_replay_that_does_not_make_the_recorded_trace_says_so(tmp_path):
    c = busy_cluster()
    path = tmp_path / "edited.scenario"
    path.write_text(c.recording().replace("seed=5", "seed=6"))
    r = subprocess.run([SYNOD_SIM, "--replay", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout
    assert "NOT the recorded trace" in r.stdout


def test_a_recording_that_does_not_parse_is_a_usage_error(tmp_path):
    path = tmp_path / "bad.scenario"
    path.write_text("cluster weights=1,1,1,1\n@10 fly 2\n")
    r = subprocess.run([SYNOD_SIM, "--replay", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "line 2: unknown operation 'fly'" in r.stderr
    with pytest.raises(ScenarioError, match="line 2: unknown operation"):
        sim.replay(path.read_text())


def test_same_seed_and_operations_same_trace_another_seed_another():
    assert busy_cluster(5).trace_hash == busy_cluster(5).trace_hash
    assert busy_cluster(5).trace_hash != busy_cluster(6).trace_hash


@pytest.mark.parametrize("call, says", [
    (lambda c: c.crash(9), "no node 9"),
    (lambda c: c.crash(-1), "node number from 0"),
    (lambda c: c.crash("0"), "node number from 0"),
    (lambda c: c.restart(0), "is up, not down"),
    (lambda c: c.resume(0), "not paused"),
    (lambda c: c.partition(), "at least one group"),
    (lambda c: c.partition([0, 1], [1, 2]), "in two groups"),
    (lambda c: c.set_loss(1.5), "probability"),
    (lambda c: c.set_latency(50, 10), "min <= max"),
    (lambda c: c.set_latency(0, 60_001), "max <= 60000"),
    (lambda c: c.set_latency(0, 0), "1 <= max"),
    (lambda c: c.run_for(366 * 24 * 3600), "at most a year"),
    (lambda c: c.skew_clock(0, 10 ** 8), "at most an hour"),
    (lambda c: c.submit(via=0, from_account=0, to_account=99), "accounts are 0 to 7"),
    (lambda c: c.crash_before(0, "lunch"), "no step 'lunch'"),
    (lambda c: c.run_for(-1), "at least 0"),
    (lambda c: c.run_for(float("nan")), "number of seconds"),
    (lambda c: c.run_until(lambda: False, timeout="soon"), "number of seconds"),
    (lambda c: c.status(4), "no node 4"),
    (lambda c: c.load(10 ** 6), "at most 100000"),
])
def test_bad_arguments_are_scenario_errors_that_change_nothing(call, says):
    c = sim.Cluster(nodes=4, seed=1)
    c.run_for(1)
    before = c.recording()
    with pytest.raises(ScenarioError, match=re.escape(says)):
        call(c)
    assert c.recording() == before
    assert isinstance(ScenarioError("x"), ValueError)


@pytest.mark.parametrize("options, says", [
    (dict(nodes=0), "1 to 64 validators"),
    (dict(nodes=65), "1 to 64 validators"),
    (dict(accounts=10_001), "2 to 10000 client accounts"),
    (dict(weights=[1, 0, 1]), "positive"),
    (dict(nodes=3, weights=[1, 1]), "nodes=3 but 2 weights"),
    (dict(seed=-1), "seed"),
    (dict(seed=2 ** 64), "seed"),
    (dict(accounts=1), "client accounts"),
    (dict(latency_ms=(90, 10)), "latency"),
    (dict(loss=-0.1), "probability"),
])
def test_bad_cluster_options_are_scenario_errors(options, says):
    with pytest.raises(ScenarioError, match=re.escape(says)):
        sim.Cluster(**options)


def test_a_second_twin_or_a_twin_compromised_is_refused_not_reduced():
    c = sim.Cluster(nodes=4, seed=1)
    twin = c.compromise(0)
    assert twin == 4 and c.size == 5
    with pytest.raises(ScenarioError, match="already has a twin, node 4"):
        c.compromise(0)
    with pytest.raises(ScenarioError, match="no validator 4"):
        c.compromise(twin)
    assert c.size == 5


def test_compromise_at_and_past_a_third_is_allowed_and_said_out_loud():
    c = sim.Cluster(weights=[1, 1, 1], seed=1)
    with pytest.warns(BoundWarning, match=r"compromised weight 1 of 3 is exactly a third: safety still holds"):
        c.compromise(0)
    with pytest.warns(BoundWarning, match=r"compromised weight 2 of 3 is past a third"):
        c.equivocate(1)
    assert c.compromised_weight == 2


def test_run_until_times_out_with_the_seed_and_a_predicates_error_stops_the_run():
    c = sim.Cluster(nodes=4, seed=3)
    c.load(50)
    with pytest.raises(RunTimeout, match="not within 2 s \\(seed 3") as raised:
        c.run_until(lambda: False, timeout=2)
    assert raised.value.seed == 3 and raised.value.at_s == pytest.approx(2.0)

    asked = []

    def predicate():
        asked.append(c.now())
        if len(asked) == 5:
            raise KeyError("from the predicate")
        return False

    with pytest.raises(KeyError, match="from the predicate"):
        c.run_until(predicate, timeout=60)
    assert c.now() == pytest.approx(2.4)  # stopped at the fifth question, 0.1 s apart
    c.run_for(1)  # the cluster goes on
    c.check()


def test_the_gil_is_released_while_virtual_time_runs():
    c = sim.Cluster(nodes=4, seed=1)
    c.load(500)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.0005)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        started = time.monotonic()
        c._s.run_for(60_000)  # one call into C++: only a released GIL lets the thread tick
        took = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
    assert took > 0.05, took  # long enough for the thread to be scheduled
    assert len(ticks) >= 10, (len(ticks), took)


def test_a_cluster_refuses_calls_from_another_thread():
    c = sim.Cluster(nodes=4, seed=1)
    c.run_for(1)
    errors = []
    thread = threading.Thread(target=lambda: errors.extend([pytest.raises(RuntimeError, c.heights),
                                                            pytest.raises(RuntimeError, c.close)]))
    thread.start()
    thread.join()
    assert len(errors) == 2 and all("from the thread that made it" in str(e.value) for e in errors)
    # The last reference dropped on another thread leaves it in memory, and the process lives on.
    holder = [sim.Cluster(nodes=4, seed=2)]
    holder[0].run_for(1)
    thread = threading.Thread(target=holder.clear)
    thread.start()
    thread.join()
    c.run_for(1)
    c.close()


def test_check_names_the_invariant_nodes_seed_and_replay_command(tmp_path):
    c = sim.Cluster(nodes=4, seed=9, record=tmp_path / "fork.scenario")
    c.load(100)
    c.run_for(1)
    with pytest.warns(BoundWarning):
        c.compromise(0)
        c.compromise(1)
    c.partition([0, 1, 2], [4, 5, 3])
    c.run_for(10)
    with pytest.raises(InvariantViolation) as raised:
        c.check()
    v = raised.value
    assert v.invariant == "agreement" and v.seed == 9 and v.backend == "simulator"
    assert v.nodes and all(n in (2, 3) for n in v.nodes)
    assert v.command == f"{os.path.realpath(SYNOD_SIM)} --replay {tmp_path / 'fork.scenario'}"
    assert "seed 9" in str(v) and "reproduce:" in str(v)
    r = subprocess.run(v.command.split(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "agreement" in r.stdout, r.stdout


def test_a_closed_cluster_refuses_every_call():
    with sim.Cluster(nodes=4, seed=1) as c:
        c.run_for(1)
    with pytest.raises(ScenarioError, match="the cluster is closed"):
        c.heights()
    with pytest.raises(ScenarioError, match="the cluster is closed"):
        c.run_for(1)


def test_status_and_heights_follow_the_nodes():
    c = sim.Cluster(weights=[1, 1, 2], seed=2)
    c.run_for(2)
    s = c.status(0)
    assert s.state == "up" and s.honest and s.validator == 0 and s.round >= 1 and s.leader in (0, 1, 2)
    c.crash(2)
    s = c.status(2)
    assert s.state == "down" and s.round is None and s.committed_height == c.heights()[2] > 0
    c.pause(0)
    assert c.status(0).state == "paused"
    c.resume(0)
    assert len(c.heights()) == 3


def test_the_report_is_a_page_a_browser_renders(tmp_path):
    c = busy_cluster()
    path = c.report(tmp_path / "run.html")
    html = open(path).read()
    assert "synod scenario, seed 5" in html and "<svg" in html
    assert f"--replay {tmp_path / 'run.scenario'}" in html
    assert (tmp_path / "run.scenario").read_text() == c.recording()
    r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"file://{path}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Committed height per instance" in r.stdout and "passed" in r.stdout


def test_an_operation_a_backend_lacks_is_not_supported_not_skipped():
    base = ClusterBase([1, 1, 1, 1], seed=1)
    for call in (lambda: base.heal(), lambda: base.crash_before(0, "send"), lambda: base.run_for(1)):
        with pytest.raises(NotSupported):
            call()
    assert synod.NotSupported is NotSupported


def test_the_documented_install_command_installs_an_importable_module(tmp_path):
    r = subprocess.run(["cmake", "--install", BUILD, "--component", "python"], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "DESTDIR": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    installed = [p for p in tmp_path.rglob("synod") if p.is_dir()]
    assert len(installed) == 1, installed
    assert {"__init__.py", "sim.py", "errors.py", "_cluster.py"} <= {p.name for p in installed[0].iterdir()}
    program = "from synod import sim\nc = sim.Cluster(nodes=4, seed=2)\nc.run_for(5)\nc.check()\nprint(min(c.heights()))"
    r = subprocess.run(["/usr/bin/python3", "-c", program], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                       env={"PYTHONPATH": str(installed[0].parent), "PATH": os.environ["PATH"]})
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) > 0
