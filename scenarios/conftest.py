"""Seeds and backends for the scenarios.

    pytest scenarios                      every scenario on the simulator, and those
                                          marked `testnet` on real processes too; seed 1
    pytest scenarios --seeds 1..50        a sweep: seeds 1 to 50
    pytest scenarios --backend sim        the simulator only (--backend testnet: real processes only)

A scenario takes the `cluster` fixture, a function that makes a cluster of the
test's backend with the test's seed; the fixture closes every cluster it
made, also when the test fails. A failing run prints its seed, the pytest
command that reruns it and, on the simulator, the `synod-sim --replay`
command that replays it without Python."""
import re

import pytest

BACKENDS = ("sim", "testnet", "all")


def pytest_addoption(parser):
    group = parser.getgroup("synod scenarios")
    group.addoption("--seeds", default="1..1", help="seeds to run every scenario with, A..B (default 1..1)")
    group.addoption("--backend", default="all", choices=BACKENDS,
                    help="sim, testnet (the scenarios marked testnet), or all (default)")


def pytest_configure(config):
    config.addinivalue_line("markers", "testnet: the scenario also runs on real synod server processes")


def parse_seeds(text):
    match = re.fullmatch(r"(\d+)\.\.(\d+)", text)
    if not match or int(match.group(1)) > int(match.group(2)):
        raise pytest.UsageError(f"--seeds wants A..B with A <= B, not {text!r}")
    return list(range(int(match.group(1)), int(match.group(2)) + 1))


def pytest_generate_tests(metafunc):
    if "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", parse_seeds(metafunc.config.getoption("--seeds")), ids=lambda s: f"seed{s}")
    if "cluster" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        marked = metafunc.definition.get_closest_marker("testnet") is not None
        backends = [b for b in ("sim", "testnet") if chosen in (b, "all") and (b == "sim" or marked)]
        metafunc.parametrize("backend", backends)


@pytest.fixture
def cluster(request, seed, backend, tmp_path):
    """cluster(nodes=4, weights=None, **options) -> a cluster of the test's
    backend, seeded with the test's seed."""
    from synod import sim, testnet

    made = []
    request.node.synod_clusters = made

    def make(nodes=None, **options):
        if backend == "sim":
            c = sim.Cluster(nodes, seed=seed, record=tmp_path / f"seed{seed}-{len(made)}.scenario", **options)
        else:
            c = testnet.Cluster(nodes, seed=seed, **options)
        made.append(c)
        return c

    yield make
    # The report of a failure is made by now; a sweep must not keep every
    # cluster it made alive until the session ends.
    for c in made:
        c.close()
    made.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    clusters = getattr(item, "synod_clusters", None)
    if report.when != "call" or not report.failed or not clusters:
        return
    seed = item.callspec.params["seed"]
    lines = [f"seed {seed}; rerun: pytest '{item.nodeid}' --seeds {seed}..{seed}"]
    for c in clusters:
        c.keep()
        lines.append(f"replay ({c.backend}): {c.reproduce_command()}")
    report.sections.append(("synod", "\n".join(lines)))
