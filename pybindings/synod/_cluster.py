"""The scenario API both backends implement: one base class holding the
documented methods and the logic that does not depend on the backend
(arguments, run_until, check, the compromise warning). An operation a backend
does not override raises NotSupported."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Callable, Iterable, Optional, Sequence

from synod.errors import BoundWarning, InvariantViolation, NotSupported, RunTimeout, ScenarioError

# How often run_until asks its predicate, in (virtual or real) seconds.
RUN_UNTIL_STEP_S = 0.1
# The driver steps crash_before names, in the order a step runs them.
DRIVER_STEPS = ("persist-blocks", "persist-safety", "send", "persist-commits", "notify")


@dataclasses.dataclass(frozen=True)
class NodeStatus:
    """What one node (a validator's own instance, or a twin) reports.

    ``state`` is "up", "down", "paused" or "refused" (would not start: a
    damaged store). ``round``, ``high_qc_round``, ``leader`` (of its round)
    and ``catching_up`` are None while the node is not running."""

    node: int
    validator: int
    honest: bool
    state: str
    committed_height: int
    round: Optional[int]
    high_qc_round: Optional[int]
    leader: Optional[int]
    catching_up: Optional[bool]


@dataclasses.dataclass(frozen=True)
class Submitted:
    """A node's answer to a client's transfer: accepted into its mempool, or
    rejected with the reason (``bad_nonce``, ``insufficient_funds``, ...)."""

    accepted: bool
    error: str = ""


def _weights(nodes: Optional[int], weights: Optional[Sequence[int]]) -> list[int]:
    if weights is not None:
        if nodes is not None and nodes != len(weights):
            raise ScenarioError(f"nodes={nodes} but {len(weights)} weights")
        return [int(w) for w in weights]
    return [1] * (4 if nodes is None else int(nodes))


def _index(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(f"{what} is a node number from 0, not {value!r}")
    return value


def _seconds(value: float, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ScenarioError(f"{what} is a number of seconds, at least 0, not {value!r}")
    return float(value)


class ClusterBase:
    """A synod cluster under a scenario's control. Use it as a context manager:
    leaving the block stops everything the cluster started, also after a
    failed assertion or Ctrl-C.

    Nodes are numbered from 0: the validators' own instances first
    (0 .. nodes-1), then any twins in the order compromise() made them.
    Times are seconds: virtual seconds on the simulator, real ones on a
    testnet."""

    backend = "base"

    def __init__(self, weights: list[int], seed: int):
        self._weights = weights
        self._seed = seed

    # ---- lifetime
    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> bool:
        self.close()
        return False

    def close(self) -> None:
        """Stops the cluster. Idempotent."""

    def keep(self) -> None:
        """Keeps what the cluster wrote (a testnet's folder, with the servers'
        logs) after close; the scenario fixture calls it when a test fails."""

    # ---- shape
    @property
    def seed(self) -> int:
        """The seed every random choice of the run derives from."""
        return self._seed

    @property
    def nodes(self) -> int:
        """How many validators the cluster has (twins not counted)."""
        return len(self._weights)

    @property
    def weights(self) -> list[int]:
        """Each validator's voting weight."""
        return list(self._weights)

    # ---- faults
    def partition(self, *groups: Iterable[int]) -> None:
        """Cuts every link between different groups, both ways. A node in no
        group is cut off from all. Replaces the partition in force."""
        checked = [[_index(n, "a partition member") for n in group] for group in groups]
        if not checked:
            raise ScenarioError("partition wants at least one group, e.g. partition([0, 1], [2, 3])")
        self._partition(checked)

    def heal(self) -> None:
        """Ends every partition and isolation; latency and loss stay as set."""
        raise NotSupported(f"heal on the {self.backend}")

    def isolate(self, i: int) -> None:
        """Cuts node i off from every other node, both ways; other cuts stay."""
        raise NotSupported(f"isolate on the {self.backend}")

    def crash(self, i: int) -> None:
        """Kills node i at once, as SIGKILL would: what it made durable stays."""
        raise NotSupported(f"crash on the {self.backend}")

    def crash_before(self, i: int, step: str) -> None:
        """Arms a crash of node i just before its driver's next step of this
        kind: one of persist-blocks, persist-safety, send, persist-commits,
        notify. ``crash_before(i, "send")`` crashes between persisting a vote
        and sending it."""
        raise NotSupported(f"crash_before on the {self.backend}")

    def restart(self, i: int) -> None:
        """Starts node i again from its own store (the same data folder)."""
        raise NotSupported(f"restart on the {self.backend}")

    def pause(self, i: int) -> None:
        """Freezes node i, as SIGSTOP would: it keeps its state and hears nothing."""
        raise NotSupported(f"pause on the {self.backend}")

    def resume(self, i: int) -> None:
        """Lets a paused node run again."""
        raise NotSupported(f"resume on the {self.backend}")

    def compromise(self, i: int) -> int:
        """Starts a twin: a second honest instance holding validator i's key,
        with a store of its own. Returns the twin's node number, to place it
        in partitions. Validator i is no longer honest; when the compromised
        weight reaches a third of the total, a BoundWarning says so."""
        twin = self._compromise(_index(i, "the validator"))
        self._warn_bound()
        return twin

    def equivocate(self, i: int) -> None:
        """Makes validator i equivocate: every proposal, vote and timeout it
        signs is paired with a conflicting one, sent to some peers."""
        self._equivocate(_index(i, "the validator"))
        self._warn_bound()

    def backup(self, i: int):
        """Copies node i's ledger while it runs (never its safety record);
        returns the backup, for restore()."""
        raise NotSupported(f"backup on the {self.backend}")

    def restore(self, i: int, backup) -> None:
        """Replaces the ledger of node i, which must be down, by a backup;
        its safety record stays, so that it signs nothing twice."""
        raise NotSupported(f"restore on the {self.backend}")

    def upgrade(self, i: int) -> None:
        """Flag day: node i, which must be down, runs the next protocol
        version from its restart. Peers on another version refuse its links
        (the peer Hello's version check), so a roster split across versions
        is a partition until everyone has upgraded."""
        raise NotSupported(f"upgrade on the {self.backend}")

    def set_latency(self, ms_min: int, ms_max: int) -> None:
        """Every link's one-way delay, drawn between ms_min and ms_max."""
        raise NotSupported(f"set_latency on the {self.backend}")

    def set_loss(self, p: float) -> None:
        """Every link drops each message with probability p."""
        raise NotSupported(f"set_loss on the {self.backend}")

    def skew_clock(self, i: int, ms: int) -> None:
        """Sets node i's clock ms milliseconds off (negative: behind)."""
        raise NotSupported(f"skew_clock on the {self.backend}")

    # ---- clients
    def load(self, tx_per_s: int) -> None:
        """Clients send this many signed transfers per second, spread over
        the live nodes, from now on (0 stops them)."""
        raise NotSupported(f"load on the {self.backend}")

    def submit(self, via: int = 0, from_account: int = 0, to_account: int = 1, amount: int = 1) -> Submitted:
        """A client signs a transfer between two of the genesis accounts and
        sends it through node ``via``; returns the node's answer."""
        raise NotSupported(f"submit on the {self.backend}")

    # ---- time
    def run_for(self, seconds: float) -> None:
        """Lets the cluster run."""
        self._run_for(_seconds(seconds, "run_for's duration"))

    def run_until(self, predicate: Callable[[], bool], timeout: float) -> float:
        """Runs until ``predicate()`` holds, asking it every 0.1 s; returns the
        seconds it took. Raises RunTimeout if it does not hold within
        ``timeout`` seconds. An exception raised by the predicate stops the
        run where it is and propagates."""
        timeout = _seconds(timeout, "run_until's timeout")
        start = self.now()
        end = start + timeout
        while not predicate():
            left = end - self.now()
            if left <= 1e-9:
                raise RunTimeout(f"not within {timeout:g} s (seed {self.seed}, at {self.now():.1f} s)",
                                 seed=self.seed, at_s=self.now())
            self._run_for(min(RUN_UNTIL_STEP_S, left))
        return self.now() - start

    def now(self) -> float:
        """Seconds since the cluster started."""
        raise NotSupported(f"now on the {self.backend}")

    # ---- observation
    def heights(self) -> list[int]:
        """Each validator's committed height (its own instance, not twins)."""
        raise NotSupported(f"heights on the {self.backend}")

    def status(self, i: int) -> NodeStatus:
        """What node i reports (see NodeStatus)."""
        raise NotSupported(f"status on the {self.backend}")

    def check(self) -> None:
        """Raises InvariantViolation if any invariant broke so far, naming
        the invariant, the nodes, the seed and the command that replays it."""
        violations = self.violations()
        if violations:
            raise InvariantViolation(violations, seed=self.seed, command=self.reproduce_command(),
                                     backend=self.backend)

    def violations(self) -> list[str]:
        """Every invariant violation found so far, each with its time."""
        raise NotSupported(f"violations on the {self.backend}")

    def reproduce_command(self) -> str:
        """The command that replays this run."""
        raise NotSupported(f"reproduce_command on the {self.backend}")

    def report(self, path) -> str:
        """Writes an HTML report of the run (heights over time, faults,
        commit latency) to ``path``; returns the path."""
        raise NotSupported(f"report on the {self.backend}")

    @property
    def compromised_weight(self) -> int:
        """The weight of validators with a twin or equivocating."""
        raise NotSupported(f"compromised_weight on the {self.backend}")

    @property
    def agreed_height(self) -> int:
        """The furthest height an honest node committed (its chain is the one
        every honest node must agree with)."""
        raise NotSupported(f"agreed_height on the {self.backend}")

    @property
    def committed_txs(self) -> int:
        """Transactions that executed on the agreed chain."""
        raise NotSupported(f"committed_txs on the {self.backend}")

    # ---- what backends provide
    def _partition(self, groups: list[list[int]]) -> None:
        raise NotSupported(f"partition on the {self.backend}")

    def _compromise(self, i: int) -> int:
        raise NotSupported(f"compromise on the {self.backend}")

    def _equivocate(self, i: int) -> None:
        raise NotSupported(f"equivocate on the {self.backend}")

    def _run_for(self, seconds: float) -> None:
        raise NotSupported(f"run_for on the {self.backend}")

    def _warn_bound(self) -> None:
        bad, total = self.compromised_weight, sum(self._weights)
        if 3 * bad < total:
            return
        if 3 * bad == total:
            what = ("exactly a third: safety still holds (two quorums of more than 2W/3 share more than W/3), "
                    "liveness is no longer promised")
        else:
            what = "past a third: neither safety nor liveness is promised"
        warnings.warn(BoundWarning(f"compromised weight {bad} of {total} is {what} (seed {self.seed})"),
                      stacklevel=3)
