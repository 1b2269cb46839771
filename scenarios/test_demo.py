"""End-to-end check of `make demo`: the in-process 4-replica run must commit a
long chain through a crash and restart, with equal state roots and no safety
violation. Runs the built binary exactly as the README's demo does."""
import os
import re
import subprocess

BUILD = os.environ.get("SYNOD_BUILD", os.path.join(os.path.dirname(__file__), "..", "build"))


def run_demo():
    result = subprocess.run([os.path.join(BUILD, "sim", "synod-demo")], capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout


def test_demo_commits_through_a_crash_without_violations():
    code, out = run_demo()
    assert code == 0, out
    committed = int(re.search(r"committed blocks\s+(\d+)", out).group(1))
    executed = int(re.search(r"executed transfers\s+(\d+)", out).group(1))
    assert committed >= 200, out
    assert executed >= 1000, out
    assert "(equal on every node)" in out, out
    assert re.search(r"safety violations\s+0\b", out), out


def test_demo_is_deterministic():
    assert run_demo()[1] == run_demo()[1]
