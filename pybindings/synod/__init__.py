"""synod: fault scenarios over a simulated synod cluster (``synod.sim``) and,
with the same API, over real ``synod server`` processes (``synod.testnet``).

    from synod import sim
    with sim.Cluster(nodes=4, seed=7) as c:
        c.load(tx_per_s=200)
        c.partition([0, 1], [2, 3])
        c.run_for(30)
        c.heal()
        c.run_until(lambda: min(c.heights()) >= 50, timeout=60)
        c.check()

See docs/scenarios.md.
"""

from synod.errors import BoundWarning, InvariantViolation, NotSupported, RunTimeout, ScenarioError

__all__ = ["BoundWarning", "InvariantViolation", "NotSupported", "RunTimeout", "ScenarioError"]
