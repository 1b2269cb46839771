"""synod-sim as a new user would try it: every bad argument is a usage error
(exit 2) with a message, a violation exits 1, an output that could not be
written exits 3, and a range ending at 2^64 - 1 ends."""
import os
import subprocess

import pytest

BUILD = os.environ.get("SYNOD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SIM = os.path.join(BUILD, "sim", "synod-sim")
QUICK = ["--duration", "1s", "--liveness", "0", "-q"]


def sim(*args):
    return subprocess.run([SIM, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, says", [
    (["--seeds", "99999999999999999999..1"], "--seeds wants A..B"),
    (["--seeds", "5..1"], "--seeds wants A..B"),
    (["--duration", "99999999999999999999s"], "durations look like"),
    (["--duration", "18446744073709552s"], "at most a year"),
    (["--load", "100000000"], "--load"),
    (["--seed", "3", "--seeds", "1..2"], "excludes"),
    (["--shard", "1/2", "--seed", "5"], "requires"),
    (["--seeds", "1..1", "--shard", "1/2"], "holds no seed"),
    (["--shard", "2/2", "--seeds", "1..9"], "--shard wants i/n"),
    (["--weights", "1,0,1"], "positive integers"),
    (["--nodes", "0"], "--nodes"),
    (["--profile", "nonsense"], "unknown profile"),
    (["--trace", "/tmp/x", "--seeds", "1..2"], "need a single --seed"),
    (["--frobnicate"], "frobnicate"),
])
def test_usage_errors_exit_2_and_say_why(args, says):
    r = sim(*args)
    assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
    assert says in r.stdout + r.stderr, (args, r.stdout, r.stderr)


def test_a_range_ending_at_the_last_seed_ends():
    r = sim("--seeds", "18446744073709551614..18446744073709551615", *QUICK)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("2 runs, 0 failed"), r.stdout


def test_shards_split_a_range_without_overlap():
    runs = [int(sim("--seeds", "1..10", "--shard", f"{i}/3", *QUICK).stdout.split()[0]) for i in range(3)]
    assert runs == [4, 3, 3]


@pytest.mark.parametrize("flag", ["--json", "--trace", "--report"])
def test_an_output_on_a_full_disk_exits_3(flag):
    r = sim(flag, "/dev/full", "--seed", "1", *QUICK)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "No space left on device" in r.stderr, r.stderr


def test_the_load_is_the_rate_asked_for():
    """600 and 1,000 transactions per second used to give the same run."""
    txs = []
    for load in ("600", "1000"):
        out = sim("--seed", "1", "--profile", "calm", "--load", load, "--duration", "10s", "--liveness", "0").stdout
        txs.append(int(out.split(" txs,")[0].rsplit(" ", 1)[1]))
    assert 5000 <= txs[0] <= 6200 and 9000 <= txs[1] <= 10200, txs
