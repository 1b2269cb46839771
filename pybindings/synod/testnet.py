"""synod.testnet: the scenario API over real `synod server` processes on
127.0.0.1 (docs/scenarios.md).

The cluster writes a testnet folder (`synod testnet --init`), starts one
server per validator, and routes every peer link through a forwarding proxy
of its own: node j dials validator i at the proxy for (j, i), named in j's
private.toml `[dial]` table, and the proxy forwards to i's peer port. A
partition closes the proxies' connections and refuses new ones; latency
holds bytes back. Crash is SIGKILL, pause SIGSTOP, restart starts the same
data folder. A twin is a second server holding a validator's key; each
peer's proxy for that validator forwards to whichever of its instances the
peer is not cut from. What real processes cannot do (a crash between two
driver steps, message loss inside a TLS stream, a skewed clock, an
equivocator, a second protocol version) raises NotSupported.

Real processes are not deterministic: the seed draws the proxies' delays,
but a run does not replay. The checker here watches from outside: honest
nodes hold the same block at every height compared, no node's committed
height goes down across a restart, and no server exits by itself."""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import html
import json
import os
import pathlib
import re
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
import weakref
from typing import Optional, Sequence

from synod._cluster import ClusterBase, NodeStatus, Submitted, _index, _weights
from synod.errors import NotSupported, ScenarioError

__all__ = ["Cluster"]

START_TIMEOUT_S = 30  # for every server to answer on its admin port
STOP_TIMEOUT_S = 10   # SIGTERM, then SIGKILL
POLL_S = 0.25         # how often run_for looks at the nodes
HTTP_TIMEOUT_S = 2
COMPARE_S = 1.0       # how often the outside checker compares blocks while the run goes
PROXY_CHUNK_BYTES = 65536

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    # In the child before exec: the kernel kills it if this process dies,
    # even by SIGKILL, so no server outlives the scenario.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _synod_binary() -> str:
    build = os.environ.get("SYNOD_BUILD")
    if build and (pathlib.Path(build) / "node" / "synod").exists():
        return str(pathlib.Path(build) / "node" / "synod")
    here = pathlib.Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "build" / "node" / "synod"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("synod")
    if not found:
        raise ScenarioError("no synod binary: build it (make build), set SYNOD_BUILD, or pass synod=PATH")
    return found


def _free_ports(count: int, rng: random.Random) -> int:
    """A base port with `count` free ports from it on 127.0.0.1 (checked by
    binding each; a server binds them a moment later)."""
    for _ in range(200):
        base = rng.randrange(20000, 60000 - count)
        sockets = []
        try:
            for k in range(count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base + k))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise ScenarioError(f"no {count} free ports in a row on 127.0.0.1")


class _Link:
    """One directed peer link's proxy: a source node (or twin) -> a target
    validator, forwarded to whichever of the validator's instances the source
    can reach."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.cut = False
        self.server: Optional[asyncio.base_events.Server] = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()


class _Proxies:
    """Every link's proxy, on an asyncio loop in a thread of its own."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.latency_ms = (0, 0)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="synod-proxies", daemon=True)
        self.thread.start()
        self.links: dict[tuple[int, int], _Link] = {}

    def call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def add(self, source: int, target: int, target_port: int) -> int:
        link = _Link(target_port)
        self.links[(source, target)] = link

        async def listen():
            link.server = await asyncio.start_server(lambda r, w: self._accept(link, r, w), "127.0.0.1", 0)
            link.port = link.server.sockets[0].getsockname()[1]

        self.call(listen())
        return link.port

    async def _accept(self, link: _Link, reader, writer) -> None:
        if link.cut:
            writer.close()
            return
        port = link.target_port
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        if link.cut or link.target_port != port:  # the routes changed while it connected
            writer.close()
            upstream_writer.close()
            return
        link.writers.update((writer, upstream_writer))
        try:
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        finally:
            for w in (writer, upstream_writer):
                link.writers.discard(w)
                w.close()

    async def _pipe(self, reader, writer) -> None:
        # Each chunk waits its drawn delay, never overtaking the one before.
        due = 0.0
        try:
            while True:
                chunk = await reader.read(PROXY_CHUNK_BYTES)
                if not chunk:
                    break
                lo, hi = self.latency_ms
                if hi > 0:
                    due = max(due, self.loop.time() + self.rng.uniform(lo, hi) / 1000)
                    await asyncio.sleep(max(0.0, due - self.loop.time()))
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def set_routes(self, routes: dict[tuple[int, int], Optional[int]]) -> None:
        """Where each link forwards from now on: a port, or None (cut). A
        link whose target changed drops its connections; its node dials again."""

        async def apply():
            for key, link in self.links.items():
                port = routes.get(key)
                if port is None or port != link.target_port:
                    for w in list(link.writers):
                        w.close()
                link.cut = port is None
                if port is not None:
                    link.target_port = port

        self.call(apply())

    def close(self) -> None:
        async def shut():
            for link in self.links.values():
                for w in list(link.writers):
                    w.close()
                if link.server:
                    link.server.close()

        try:
            self.call(shut())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            if not self.thread.is_alive():
                self.loop.close()


_live_clusters: "weakref.WeakSet[Cluster]" = weakref.WeakSet()


@atexit.register
def _close_forgotten_clusters() -> None:
    for c in list(_live_clusters):
        c.close()


class Cluster(ClusterBase):
    """A testnet of real `synod server` processes.

    ``nodes`` validators of weight 1, or ``weights``; ``seed`` draws the
    proxies' delays; ``latency_ms`` the links' (min, max) one-way delay;
    ``accounts`` funded testnet accounts. The folder (keys, configs, data,
    each server's ``server.log``) is ``dir``, or a temporary one removed at
    close unless a check failed or ``keep`` is set."""

    backend = "testnet"

    def __init__(self, nodes: Optional[int] = None, *, weights: Optional[Sequence[int]] = None, seed: int = 1,
                 latency_ms: tuple[int, int] = (0, 0), accounts: int = 8, dir: Optional[os.PathLike | str] = None,
                 keep: bool = False, synod: Optional[str] = None):
        super().__init__(_weights(nodes, weights), int(seed))
        if not 1 <= len(self._weights) <= 64 or any(w < 1 for w in self._weights):
            raise ScenarioError(f"a testnet has 1 to 64 validators of weight at least 1, not {self._weights}")
        self._synod = synod or _synod_binary()
        self._keep = keep
        self._owned_dir = dir is None
        self._dir = pathlib.Path(dir) if dir is not None else pathlib.Path(tempfile.mkdtemp(prefix="synod-testnet-"))
        self._accounts = accounts
        self._started = time.monotonic()
        # Per instance: the validators' own first (0 .. nodes-1), then twins.
        self._validator_of = list(range(self.nodes))
        self._folders = [self._dir / f"node{i}" for i in range(self.nodes)]
        self._processes: list[Optional[subprocess.Popen]] = [None] * self.nodes
        self._paused = [False] * self.nodes
        self._killed = [False] * self.nodes  # stopped by the cluster, not by itself
        self._seen_height = [0] * self.nodes  # highest committed height each node reported
        self._last_status: list[dict] = [{} for _ in range(self.nodes)]
        self._compromised: set[int] = set()  # validators with a twin
        self._forked: set[int] = set()  # honest nodes reported off the agreed chain, once each
        self._compared_at = 0.0
        self._blocks: dict[int, tuple[str, str, int]] = {}  # height -> (id, state root, node that showed it)
        self._violations: list[str] = []
        self._reported_exits: set[subprocess.Popen] = set()  # held, so that no later process is taken for one
        self._timeline: list[tuple[float, list[int]]] = []
        self._faults: list[tuple[float, str]] = []
        self._cut: set[tuple[int, int]] = set()
        self._load: Optional[subprocess.Popen] = None
        self._closed = False
        self._proxies: Optional[_Proxies] = None
        _live_clusters.add(self)
        try:
            self._create()
            self.set_latency(*latency_ms)
            for i in range(self.nodes):
                self._start(i)
            self._wait_started()
        except BaseException:
            self.close()
            raise

    # ---- set-up
    def _create(self) -> None:
        weights = ",".join(str(w) for w in self._weights)
        r = subprocess.run([self._synod, "testnet", "--init", "-d", str(self._dir), "--weights", weights],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise ScenarioError(f"synod testnet --init failed: {r.stderr.strip() or r.stdout.strip()}")
        genesis = tomllib.loads((self._dir / "genesis.toml").read_text())
        self._keys = [v["key"] for v in genesis["validators"]]
        self._ports = [int(v["address"].rsplit(":", 1)[1]) for v in genesis["validators"]]
        self._account_keys = [a["account"] for a in genesis["allocations"]]
        if self._accounts > len(self._account_keys):
            raise ScenarioError(f"the testnet funds {len(self._account_keys)} accounts, not {self._accounts}")
        self._proxies = _Proxies(self.seed)
        self._private_text = [self._private(j).read_text() for j in range(self.nodes)]
        for j in range(self.nodes):
            with open(self._private(j), "a") as f:
                f.write(self._dial_table(j))

    def _dial_table(self, instance: int) -> str:
        """A proxy for each peer validator of this instance, as its [dial] table."""
        dial = []
        for v in range(self.nodes):
            if v != self._validator_of[instance]:
                port = self._proxies.add(instance, v, self._ports[v])
                dial.append(f'"{self._keys[v]}" = "127.0.0.1:{port}"')
        return "\n# Every peer through the scenario's proxy for that link.\n[dial]\n" + "\n".join(dial) + "\n"

    @property
    def size(self) -> int:
        """Nodes including twins."""
        return len(self._validator_of)

    def _node(self, i: int) -> int:
        i = _index(i, "the node")
        if i >= self.size:
            raise ScenarioError(f"no node {i}: the cluster has nodes 0 to {self.size - 1}")
        return i

    def _private(self, i: int) -> pathlib.Path:
        return self._folders[i] / "private.toml"

    def log_file(self, i: int) -> pathlib.Path:
        """Node i's server log."""
        return self._folders[i] / "server.log"

    def _apply_routes(self) -> None:
        """Each link goes to the first instance of its validator that its
        source is not cut from (the validator's own, then its twin)."""
        routes = {}
        for (source, v) in self._proxies.links:
            routes[(source, v)] = next((self._ports[c] for c in range(self.size)
                                        if self._validator_of[c] == v and (source, c) not in self._cut), None)
        self._proxies.set_routes(routes)

    def _start(self, i: int) -> None:
        with open(self.log_file(i), "ab") as log:
            self._processes[i] = subprocess.Popen([self._synod, "server", "-c", str(self._private(i))], stdout=log,
                                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                  preexec_fn=_die_with_parent)
        self._killed[i] = False
        self._paused[i] = False

    def _wait_started(self, nodes: Optional[Sequence[int]] = None) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        for i in nodes if nodes is not None else range(self.nodes):
            while self._admin_status(i) is None:
                process = self._processes[i]
                if process is None or process.poll() is not None:
                    raise ScenarioError(f"node {i} exited while starting: see {self.log_file(i)}")
                if time.monotonic() > deadline:
                    raise ScenarioError(f"node {i} did not answer within {START_TIMEOUT_S} s: see {self.log_file(i)}")
                time.sleep(0.05)

    # ---- lifetime
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_load()
        for i, process in enumerate(self._processes):
            if process is None:
                continue
            if self._paused[i]:
                process.send_signal(signal.SIGCONT)
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            if process is None:
                continue
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._proxies:
            self._proxies.close()
        _live_clusters.discard(self)
        if self._owned_dir and not self._keep and not self._violations:
            shutil.rmtree(self._dir, ignore_errors=True)

    def keep(self) -> None:
        self._keep = True

    @property
    def dir(self) -> pathlib.Path:
        """The testnet's folder."""
        return self._dir

    def _live(self, i: int) -> subprocess.Popen:
        if self._closed:
            raise ScenarioError("the cluster is closed")
        self._node(i)
        process = self._processes[i]
        if process is None or process.poll() is not None:
            raise ScenarioError(f"node {i} is {self._state(i)}")
        return process

    def _fault(self, what: str) -> None:
        self._faults.append((self.now(), what))

    # ---- faults
    def _partition(self, groups: list[list[int]]) -> None:
        side = {}
        for g, group in enumerate(groups):
            for n in group:
                self._node(n)
                if n in side:
                    raise ScenarioError(f"partition: node {n} is in two groups")
                side[n] = g
        if any(not group for group in groups):
            raise ScenarioError("partition: a group is empty")
        self._cut = {(a, b) for a in range(self.size) for b in range(self.size)
                     if a != b and (a not in side or side.get(a) != side.get(b))}
        self._apply_routes()
        self._fault("partition " + " | ".join(",".join(map(str, g)) for g in groups))

    def heal(self) -> None:
        self._cut = set()
        self._apply_routes()
        self._fault("heal")

    def isolate(self, i: int) -> None:
        i = self._node(i)
        self._cut |= {(a, b) for a in range(self.size) for b in range(self.size) if a != b and i in (a, b)}
        self._apply_routes()
        self._fault(f"isolate {i}")

    def crash(self, i: int) -> None:
        process = self._live(_index(i, "the node"))
        self._killed[i] = True
        if self._paused[i]:
            process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait()
        self._paused[i] = False
        self._fault(f"crash {i}")

    def restart(self, i: int) -> None:
        i = self._node(i)
        if self._state(i) != "down":
            raise ScenarioError(f"restart: node {i} is {self._state(i)}, not down")
        self._start(i)
        self._wait_started([i])
        self._fault(f"restart {i}")

    def pause(self, i: int) -> None:
        process = self._live(_index(i, "the node"))
        if self._paused[i]:
            raise ScenarioError(f"pause: node {i} is paused, not up")
        process.send_signal(signal.SIGSTOP)
        self._paused[i] = True
        self._fault(f"pause {i}")

    def resume(self, i: int) -> None:
        process = self._live(_index(i, "the node"))
        if not self._paused[i]:
            raise ScenarioError(f"resume: node {i} is up, not paused")
        process.send_signal(signal.SIGCONT)
        self._paused[i] = False
        self._fault(f"resume {i}")

    def backup(self, i: int) -> str:
        """`synod backup` of node i, online; returns the backup file's path."""
        self._live(_index(i, "the node"))
        r = subprocess.run([self._synod, "backup", "-c", str(self._private(i))], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            raise ScenarioError(f"backup of node {i} failed: {r.stderr.strip()}")
        self._fault(f"backup {i}")
        return r.stdout.split()[0]

    def restore(self, i: int, backup: str) -> None:
        """`synod restore` of a backup into node i, which must be down."""
        i = self._node(i)
        if self._state(i) != "down":
            raise ScenarioError(f"restore: node {i} is {self._state(i)}; crash it first")
        r = subprocess.run([self._synod, "restore", "-c", str(self._private(i)), str(backup)], capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise ScenarioError(f"restore of node {i} failed: {r.stderr.strip()}")
        # The restored ledger stands lower on purpose: that is not lost durability.
        status = r.stdout.split()
        self._seen_height[i] = int(status[status.index("height") + 1]) if "height" in status else 0
        self._fault(f"restore {i}")

    def set_latency(self, ms_min: int, ms_max: int) -> None:
        lo, hi = _index(ms_min, "the latency"), _index(ms_max, "the latency")
        if lo > hi or hi > 60_000:
            raise ScenarioError(f"set_latency wants 0 <= min <= max <= 60000 ms, not {lo}, {hi}")
        self._proxies.loop.call_soon_threadsafe(setattr, self._proxies, "latency_ms", (lo, hi))
        self._fault(f"latency {lo}-{hi} ms")

    def set_loss(self, p: float) -> None:
        raise NotSupported("set_loss on a testnet: peer links are TLS streams, which cannot lose one message "
                           "and go on; cut links with partition or isolate instead")

    def skew_clock(self, i: int, ms: int) -> None:
        raise NotSupported("skew_clock on a testnet: synod server has no clock setting to skew")

    def upgrade(self, i: int) -> None:
        raise NotSupported("upgrade on a testnet: it needs a second synod build speaking the next protocol version; "
                           "use the simulator")

    def crash_before(self, i: int, step: str) -> None:
        raise NotSupported("crash_before on a testnet: a real process cannot be stopped between two driver steps; "
                           "use the simulator")

    def _compromise(self, v: int) -> int:
        """A twin: a second synod server with validator v's key (private.toml
        copied, its own data folder and ports), dialling every peer through
        proxies of its own. Peers reach validator v at whichever instance is
        on their side of a partition."""
        if v >= self.nodes:
            raise ScenarioError(f"no validator {v}: the validators are 0 to {self.nodes - 1} "
                                "(twins cannot be compromised again)")
        if v in self._compromised:
            twin = self._validator_of.index(v, self.nodes)
            raise ScenarioError(f"compromise: validator {v} already has a twin, node {twin}")
        twin = self.size
        folder = self._dir / f"twin{v}"
        folder.mkdir()
        port = _free_ports(3, self._proxies.rng)
        self._validator_of.append(v)
        self._folders.append(folder)
        self._ports.append(port)
        self._processes.append(None)
        self._paused.append(False)
        self._killed.append(False)
        self._seen_height.append(0)
        self._last_status.append({})
        # The roster's address stays (the node checks it against the genesis);
        # the twin listens elsewhere.
        text = re.sub(r"^(address = .*)$", rf"\1\nlisten = '127.0.0.1:{port}'", self._private_text[v], count=1,
                      flags=re.M)
        private = folder / "private.toml"
        private.write_text(text + self._dial_table(twin))
        private.chmod(0o600)
        self._compromised.add(v)
        self._apply_routes()
        self._start(twin)
        self._wait_started([twin])
        self._fault(f"twin {twin} of validator {v}")
        return twin

    def _equivocate(self, i: int) -> None:
        raise NotSupported("equivocate on a testnet: no server build equivocates; use the simulator")

    @property
    def compromised_weight(self) -> int:
        return sum(self._weights[v] for v in self._compromised)

    @property
    def agreed_height(self) -> int:
        return max(self.heights())

    @property
    def committed_txs(self) -> int:
        """The funded accounts' nonces summed, as the furthest running node
        reports them: every executed transfer moved one nonce."""
        up = [i for i in range(self.nodes) if self._state(i) == "up"]
        if not up:
            raise ScenarioError("committed_txs: no node is up to ask")
        best = max(up, key=lambda i: self._seen_height[i])
        total = 0
        for key in self._account_keys[:self._accounts]:
            account = self._http_json(f"http://127.0.0.1:{self._ports[best] + 1}/v1/account/{key}")
            if account is None:
                raise ScenarioError(f"committed_txs: node {best} did not answer")
            total += int(account["nonce"])
        return total

    # ---- clients
    def load(self, tx_per_s: int) -> None:
        rate = _index(tx_per_s, "the load")
        self._stop_load()
        if rate > 0:
            log = open(self._dir / "load.log", "ab")
            self._load = subprocess.Popen(
                [self._synod, "load", "--genesis", str(self._dir / "genesis.toml"), "--rate", str(rate),
                 "--seconds", "86400", "--accounts", str(self._accounts)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            log.close()
        self._fault(f"load {rate}")

    def _stop_load(self) -> None:
        if self._load is not None:
            self._load.terminate()
            try:
                self._load.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._load.kill()
                self._load.wait()
            self._load = None

    def submit(self, via: int = 0, from_account: int = 0, to_account: int = 1, amount: int = 1) -> Submitted:
        self._live(_index(via, "the node"))
        for a in (from_account, to_account):
            if not 0 <= _index(a, "the account") < self._accounts:
                raise ScenarioError(f"submit: the accounts are 0 to {self._accounts - 1}, not {a}")
        r = subprocess.run([self._synod, "tx", "--url", f"http://127.0.0.1:{self._ports[via] + 1}",
                            "--testnet-account", str(from_account), "transfer", self._account_keys[to_account],
                            str(_index(amount, "the amount"))], capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            return Submitted(True)
        return Submitted(False, (r.stderr.strip() or r.stdout.strip()).splitlines()[-1])

    # ---- time
    def _run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            self._observe()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(POLL_S, left))

    def now(self) -> float:
        return time.monotonic() - self._started

    # ---- observation
    def _http_json(self, url: str) -> Optional[dict]:
        try:
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
                return json.loads(response.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None

    def _admin_status(self, i: int) -> Optional[dict]:
        if self._paused[i]:
            return None  # a stopped process would only make us wait
        return self._http_json(f"http://127.0.0.1:{self._ports[i] + 2}/status")

    def _state(self, i: int) -> str:
        process = self._processes[i]
        if process is None or process.poll() is not None:
            return "down" if process is None or self._killed[i] else "refused"
        return "paused" if self._paused[i] else "up"

    def _observe(self) -> None:
        """Polls every running node: heights for the timeline and the
        durability check, and exits nobody asked for."""
        if self._closed:
            raise ScenarioError("the cluster is closed")
        heights = []
        for i in range(self.size):
            state = self._state(i)
            if state == "refused" and self._processes[i] not in self._reported_exits:
                self._reported_exits.add(self._processes[i])
                self._violate(f"process: n{i} exited by itself with status {self._processes[i].returncode} "
                              f"(see {self.log_file(i)})")
            status = self._admin_status(i) if state == "up" else None
            if status is not None:
                self._last_status[i] = status
                height = int(status["height"])
                if height < self._seen_height[i]:
                    self._violate(f"durability: n{i} acknowledged height {self._seen_height[i]} "
                                  f"but reports only {height}")
                self._seen_height[i] = max(self._seen_height[i], height)
            heights.append(self._seen_height[i])
        self._timeline.append((self.now(), heights))
        # Forks are looked for as the run goes, so that a node that forks and
        # then crashes is still caught.
        if self.now() - self._compared_at >= COMPARE_S:
            self._compared_at = self.now()
            self._compare_blocks()

    def _violate(self, what: str) -> None:
        self._violations.append(f"t={int(self.now() * 1000)}ms {what}")

    def heights(self) -> list[int]:
        self._observe()
        return list(self._seen_height[:self.nodes])

    def status(self, i: int) -> NodeStatus:
        i = self._node(i)
        self._observe()
        state = self._state(i)
        s = self._last_status[i] if state == "up" else {}
        v = self._validator_of[i]
        return NodeStatus(node=i, validator=v, honest=v not in self._compromised, state=state, committed_height=self._seen_height[i],
                          round=s.get("round"), high_qc_round=None, leader=None, catching_up=s.get("catching_up"))

    def _compare_blocks(self) -> None:
        """Agreement: every running honest node's block at its own height,
        and at the lowest height they all reached, equals the first block any
        of them showed at that height (block ids chain their parents, so an
        equal block means an equal chain below it). A node reported once is
        not compared again."""
        up = [i for i in range(self.size) if self._state(i) == "up" and i not in self._forked
              and self._validator_of[i] not in self._compromised and self._seen_height[i] > 0]
        if not up:
            return
        lowest = min(self._seen_height[i] for i in up)
        for i in up:
            for h in sorted({lowest, self._seen_height[i]}):
                block = self._http_json(f"http://127.0.0.1:{self._ports[i] + 1}/v1/block/{h}")
                if block is None:
                    continue  # not answering now: a later check compares it
                seen = self._blocks.setdefault(h, (block["id"], block["state_root"], i))
                if block["id"] != seen[0]:
                    self._forked.add(i)
                    self._violate(f"agreement: n{i} committed a different block at height {h} than n{seen[2]}")
                    break
                if block["state_root"] != seen[1]:
                    self._violate(f"state: n{i} has a different state root at height {h} than n{seen[2]}")

    def violations(self) -> list[str]:
        self._observe()
        self._compare_blocks()
        return list(self._violations)

    def reproduce_command(self) -> str:
        return (f"the same scenario with --backend testnet --seeds {self.seed}..{self.seed} "
                f"(real processes do not replay exactly); the servers' logs: {self._dir}/node*/server.log")

    def report(self, path) -> str:
        """An HTML page built from the nodes' status over time: committed
        heights with the operations marked, and each node's last status."""
        self._observe()
        path = pathlib.Path(path)
        path.write_text(_report_html(self))
        return str(path)


def _report_html(c: Cluster) -> str:
    width, height, left, bottom = 900, 360, 50, 30
    t_max = max(c.now(), 1e-3)
    h_max = max([1] + [max(h) for _, h in c._timeline if h])
    x = lambda t: left + (width - left - 10) * t / t_max
    y = lambda h: height - bottom - (height - bottom - 10) * h / h_max
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    svg = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>",
           f"<line x1='{left}' y1='{height - bottom}' x2='{width}' y2='{height - bottom}' stroke='black'/>",
           f"<line x1='{left}' y1='10' x2='{left}' y2='{height - bottom}' stroke='black'/>",
           f"<text x='{left}' y='{height - 8}' font-size='11'>0 s</text>",
           f"<text x='{width - 60}' y='{height - 8}' font-size='11'>{t_max:.0f} s</text>",
           f"<text x='4' y='20' font-size='11'>h{h_max}</text>"]
    for t, what in c._faults:
        svg.append(f"<line x1='{x(t):.1f}' y1='10' x2='{x(t):.1f}' y2='{height - bottom}' stroke='#d62728' "
                   f"opacity='0.4'><title>{html.escape(what)} at {t:.1f} s</title></line>")
    for i in range(c.size):
        points = " ".join(f"{x(t):.1f},{y(h[i]):.1f}" for t, h in c._timeline)
        colour = palette[i % len(palette)]
        svg.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.5' points='{points}'>"
                   f"<title>n{i}</title></polyline>")
        svg.append(f"<text x='{width - 40}' y='{20 + 14 * i}' font-size='11' fill='{colour}'>n{i}</text>")
    svg.append("</svg>")
    rows = "".join(
        f"<tr><td>n{i}</td><td>{c._state(i)}</td><td>{c._seen_height[i]}</td>"
        f"<td>{html.escape(str(c._last_status[i].get('round', '')))}</td>"
        f"<td>{html.escape(str(c._last_status[i].get('peers_connected', '')))}</td>"
        f"<td><code>{html.escape(str(c.log_file(i)))}</code></td></tr>" for i in range(c.size))
    ok = not c._violations
    violations = "".join(f"<li>{html.escape(v)}</li>" for v in c._violations)
    operations = "".join(f"<li>{t:.1f} s: {html.escape(w)}</li>" for t, w in c._faults)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>synod testnet scenario, seed "
            f"{c.seed}</title><style>body{{font-family:sans-serif;margin:2em;max-width:960px}}"
            "code{background:#eee;padding:2px 4px}.bad{color:#b00}.ok{color:#080}</style></head><body>"
            f"<h1>synod testnet scenario, seed {c.seed} <span class='{'ok' if ok else 'bad'}'>"
            f"{'passed' if ok else 'FAILED'}</span></h1>"
            f"<p>{c.nodes} <code>synod server</code> processes, weights {c.weights}, {t_max:.1f} s; "
            f"folder <code>{html.escape(str(c.dir))}</code>.</p>"
            + (f"<h2 class='bad'>Violations</h2><ul>{violations}</ul>" if violations else "")
            + "<h2>Committed height per node</h2><p>Red lines: operations (hover for what).</p>" + "".join(svg)
            + "<h2>Nodes</h2><table><tr><th>node</th><th>state</th><th>height</th><th>round</th>"
            f"<th>peers</th><th>log</th></tr>{rows}</table><h2>Operations</h2><ul>{operations}</ul></body></html>\n")
