"""Key compromise, Twins-style: a compromised validator's key runs in two
honest instances (the original and its twin) placed on different sides of
partitions. Below a third of the weight, and at exactly a third, every such
schedule is safe; past a third, one schedule is enough to fork, and check()
must say so. The space of two-sided splits of a small roster is enumerated
exhaustively."""
import itertools
import warnings

import pytest

from synod import BoundWarning, InvariantViolation


def splits(others):
    """Every way to place `others` on the left or the right side."""
    for sides in itertools.product((0, 1), repeat=len(others)):
        yield [n for n, s in zip(others, sides) if s == 0], [n for n, s in zip(others, sides) if s == 1]


def run_twins_schedule(c, validator, twin, left, right):
    """Splits the cluster with the validator left and its twin right, heals,
    splits the other way round, heals."""
    c.partition([validator, *left], [twin, *right])
    c.run_for(4)
    c.heal()
    c.run_for(1)
    c.partition([twin, *left], [validator, *right])
    c.run_for(4)
    c.heal()
    c.run_for(2)


def test_one_twin_in_four_is_safe_and_live(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)  # a quarter is within the bound: no warning
        twin = c.compromise(0)
    assert twin == 4 and not c.status(0).honest and not c.status(twin).honest
    for left, right in splits([1, 2, 3]):
        run_twins_schedule(c, 0, twin, left, right)
        c.check()
    before = c.agreed_height
    c.run_for(10)
    assert c.agreed_height >= before + 20  # live: the honest three commit
    c.check()


@pytest.mark.parametrize("weights", [[2, 1, 1, 1, 1], [1, 1, 1]], ids=["W6", "W3"])
def test_exactly_a_third_compromised_is_still_safe_in_every_split(cluster, weights):
    # Exhaustive over the splits, each in a cluster of its own; the seed sweep
    # varies the timings.
    for left, right in splits(list(range(1, len(weights)))):
        c = cluster(weights=weights)
        c.load(100)
        c.run_for(1)
        with pytest.warns(BoundWarning, match="exactly a third"):
            twin = c.compromise(0)
        assert c.compromised_weight * 3 == sum(weights)
        run_twins_schedule(c, 0, twin, left, right)
        c.check()
        assert c.agreed_height > 0


@pytest.mark.testnet
def test_half_compromised_forks_and_check_says_so(cluster):
    c = cluster(nodes=4)
    # Keys stolen before the first block: both instances of a key start equal.
    with pytest.warns(BoundWarning, match="past a third"):
        c.compromise(0)
        c.compromise(1)
    c.partition([0, 1, 2], [4, 5, 3])
    c.load(100)
    # Each side holds 3 of 4 keys, a quorum: both commit, on chains of their own.
    c.run_until(lambda: c.violations(), timeout=60)
    with pytest.raises(InvariantViolation) as raised:
        c.check()
    violation = raised.value
    assert violation.invariant == "agreement"
    assert violation.seed == c.seed
    assert set(violation.nodes) & {2, 3}  # an honest node committed off the agreed chain


def test_an_equivocator_within_the_bound_is_safe_and_live(cluster):
    c = cluster(nodes=4)
    c.load(100)
    c.run_for(1)
    c.equivocate(2)
    c.run_for(30)
    assert c.agreed_height >= 50
    c.check()
