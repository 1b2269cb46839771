"""The errors and warnings of the synod scenario API, shared by both backends."""

from __future__ import annotations

import re
from typing import Sequence


class ScenarioError(ValueError):
    """An operation the cluster refuses: a node that does not exist, a node in
    the wrong state for it (restarting a node that is up), a second twin of one
    validator, an argument out of bounds. Nothing changed."""


class NotSupported(NotImplementedError):
    """An operation this backend cannot do (say, a crash between two steps of
    a real process's driver). Raised, never skipped silently."""


class RunTimeout(TimeoutError):
    """run_until's predicate did not hold within its timeout."""

    def __init__(self, message: str, *, seed: int, at_s: float):
        super().__init__(message)
        self.seed = seed
        self.at_s = at_s


class BoundWarning(UserWarning):
    """Compromised weight reached a third of the total: the protocol no longer
    promises what it promises below it. Allowed, so that a scenario can show
    the bound is real, and said out loud."""


_VIOLATION = re.compile(r"^t=(\d+)ms ([a-z-]+): (.*)$")


class InvariantViolation(AssertionError):
    """A cluster broke an invariant of docs/protocol.md.

    Attributes: ``invariant`` (agreement, state, durability, integrity,
    validity, conservation, liveness, ...), ``nodes`` (the instances named in
    the first finding), ``seed``, ``violations`` (every finding, each with its
    virtual time), and ``command``, the command that replays the run (for the
    simulator: ``synod-sim --replay FILE``)."""

    def __init__(self, violations: Sequence[str], *, seed: int, command: str, backend: str):
        self.violations = list(violations)
        self.seed = seed
        self.command = command
        self.backend = backend
        first = self.violations[0]
        match = _VIOLATION.match(first)
        self.invariant = match.group(2) if match else first.split(":", 1)[0]
        self.nodes = sorted({int(n) for n in re.findall(r"\bn(\d+)\b", first)})
        more = len(self.violations) - 1
        message = (f"{self.invariant} violated (nodes {self.nodes}) on the {backend}, seed {seed}: {first}"
                   + (f"\n  and {more} more: " + "; ".join(self.violations[1:4]) if more else "")
                   + f"\n  reproduce: {command}")
        super().__init__(message)
