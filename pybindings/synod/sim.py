"""synod.sim: a whole synod cluster in this process, in virtual time, from one
seed (the simulator of sim/, through the _sim extension).

Every operation is recorded with its virtual time; the recording replays the
run exactly without Python: ``synod-sim --replay FILE``. A failed check()
writes it and names that command. See docs/scenarios.md."""

from __future__ import annotations

import atexit
import os
import pathlib
import tempfile
from typing import Optional, Sequence

from synod import _sim
from synod._cluster import ClusterBase, NodeStatus, Submitted, _index, _weights
from synod.errors import ScenarioError

__all__ = ["Cluster", "replay"]

# A run_for longer than this is a typo, not a test (the simulator's own bound).
RUN_FOR_S_MAX = 365 * 24 * 3600


def _synod_sim() -> str:
    """The synod-sim binary of the build this module belongs to, or the bare
    name when the module is installed apart from a build."""
    built = pathlib.Path(_sim.__file__).resolve().parents[2] / "sim" / "synod-sim"
    return str(built) if built.exists() else "synod-sim"


# A cluster dropped on another thread is destroyed later on its own: at the
# next cluster made on that thread, or at exit (before the thread's fiber
# scheduler goes, which must not find live fibers).
atexit.register(_sim.collect_orphans)


class _Closed:
    """What a closed cluster holds instead of its simulation."""

    def __getattr__(self, name):
        raise ScenarioError("the cluster is closed")


class Cluster(ClusterBase):
    """A simulated cluster.

    ``nodes`` validators of weight 1, or ``weights`` (one per validator);
    ``seed`` draws every latency, loss and timing of the run; ``latency_ms``
    is the links' (min, max) one-way delay, ``loss`` their drop probability;
    ``accounts`` genesis accounts fund the clients. ``record`` is where a
    failed check() writes the recording (default: a new file in
    $SYNOD_SCENARIO_DIR or the temporary folder)."""

    backend = "simulator"

    def __init__(self, nodes: Optional[int] = None, *, weights: Optional[Sequence[int]] = None, seed: int = 1,
                 latency_ms: tuple[int, int] = (10, 50), loss: float = 0.0, accounts: int = 8,
                 record: Optional[os.PathLike | str] = None):
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
            raise ScenarioError(f"the seed is an integer from 0 to 2^64 - 1, not {seed!r}")
        super().__init__(_weights(nodes, weights), seed)
        lo, hi = latency_ms
        _sim.collect_orphans()
        self._s = _sim.Scenario(weights=self._weights, seed=seed, latency_ms_min=int(lo), latency_ms_max=int(hi),
                                loss=float(loss), accounts=int(accounts))
        self._record = pathlib.Path(record) if record is not None else None

    def close(self) -> None:
        """Frees the simulated cluster (from the thread that made it); any
        later call raises ScenarioError."""
        if not isinstance(self._s, _Closed):
            self._s.check_thread()
        self._s = _Closed()

    # ---- faults
    def _partition(self, groups: list[list[int]]) -> None:
        self._s.partition(groups)

    def heal(self) -> None:
        self._s.heal()

    def isolate(self, i: int) -> None:
        self._s.isolate(_index(i, "the node"))

    def crash(self, i: int) -> None:
        self._s.crash(_index(i, "the node"))

    def crash_before(self, i: int, step: str) -> None:
        self._s.crash_before(_index(i, "the node"), str(step))

    def restart(self, i: int) -> None:
        self._s.restart(_index(i, "the node"))

    def pause(self, i: int) -> None:
        self._s.pause(_index(i, "the node"))

    def resume(self, i: int) -> None:
        self._s.resume(_index(i, "the node"))

    def _compromise(self, i: int) -> int:
        return self._s.compromise(i)

    def _equivocate(self, i: int) -> None:
        self._s.equivocate(i)

    def backup(self, i: int) -> int:
        return self._s.backup(_index(i, "the node"))

    def restore(self, i: int, backup: int) -> None:
        self._s.restore(_index(i, "the node"), _index(backup, "the backup"))

    def upgrade(self, i: int) -> None:
        self._s.upgrade(_index(i, "the node"))

    def version(self, i: int) -> int:
        """The protocol version node i runs (1 until upgraded)."""
        return self._s.version(_index(i, "the node"))

    @property
    def refused_version(self) -> int:
        """Messages refused because sender and receiver run different versions."""
        return self._s.refused_version()

    def set_latency(self, ms_min: int, ms_max: int) -> None:
        self._s.set_latency(_index(ms_min, "the latency"), _index(ms_max, "the latency"))

    def set_loss(self, p: float) -> None:
        self._s.set_loss(float(p))

    def skew_clock(self, i: int, ms: int) -> None:
        self._s.skew_clock(_index(i, "the node"), int(ms))

    # ---- clients
    def load(self, tx_per_s: int) -> None:
        self._s.load(_index(tx_per_s, "the load"))

    def submit(self, via: int = 0, from_account: int = 0, to_account: int = 1, amount: int = 1) -> Submitted:
        accepted, error = self._s.submit(_index(via, "the node"), _index(from_account, "the account"),
                                         _index(to_account, "the account"), _index(amount, "the amount"))
        return Submitted(accepted, error)

    # ---- time
    def _run_for(self, seconds: float) -> None:
        if seconds > RUN_FOR_S_MAX:
            raise ScenarioError(f"run_for: at most a year of virtual time at once, not {seconds:g} s")
        # Whole virtual milliseconds, in steps of at most a virtual second so
        # that Ctrl-C stops a long run between two steps.
        end_ms = self._s.now_ms() + round(seconds * 1000)
        while self._s.now_ms() < end_ms:
            self._s.run_for(min(1000, end_ms - self._s.now_ms()))

    def now(self) -> float:
        return self._s.now_ms() / 1000

    # ---- observation
    def heights(self) -> list[int]:
        return self._s.heights()

    @property
    def agreed_height(self) -> int:
        return self._s.agreed_height()

    @property
    def committed_txs(self) -> int:
        return self._s.committed_txs()

    @property
    def size(self) -> int:
        """Nodes including twins."""
        return self._s.size()

    def status(self, i: int) -> NodeStatus:
        return NodeStatus(**self._s.status(_index(i, "the node")))

    def violations(self) -> list[str]:
        return self._s.violations()

    @property
    def compromised_weight(self) -> int:
        return self._s.compromised_weight()

    @property
    def trace_hash(self) -> int:
        """The hash of every event so far: equal for equal seeds and operations."""
        return self._s.trace_hash()

    def recording(self) -> str:
        """The operations so far, each at its virtual time, ending with the
        trace hash: the text ``synod-sim --replay`` replays."""
        return self._s.recording()

    def save_recording(self, path: Optional[os.PathLike | str] = None) -> pathlib.Path:
        """Writes the recording to ``path`` (default: the ``record`` path, or
        a new file in $SYNOD_SCENARIO_DIR or the temporary folder)."""
        if path is None:
            path = self._record
        if path is None:
            folder = os.environ.get("SYNOD_SCENARIO_DIR") or tempfile.gettempdir()
            fd, name = tempfile.mkstemp(prefix=f"synod-seed{self.seed}-", suffix=".scenario", dir=folder)
            os.close(fd)
            path = name
        path = pathlib.Path(path)
        path.write_text(self.recording())
        return path

    def reproduce_command(self) -> str:
        return f"{_synod_sim()} --replay {self.save_recording()}"

    def report(self, path) -> str:
        path = pathlib.Path(path)
        recording = self.save_recording(path.with_suffix(".scenario"))
        path.write_text(self._s.report(f"{_synod_sim()} --replay {recording}"))
        return str(path)


def replay(recording: str) -> dict:
    """Replays a recording in this process: the trace hash it made, the one
    recorded, the virtual time, the agreed height and any violations."""
    return _sim.replay(recording)
