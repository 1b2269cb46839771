"""Real `synod server` processes on 127.0.0.1: a four-node testnet under load
with one node killed and restarted, config errors that stop the node with
file and field named, a second server refused on the same data folder,
`synod check` on a healthy and a broken roster, SIGTERM during load. Every
process started here is stopped here, also when a test fails."""
import os
import re
import signal
import subprocess
import time

import json
import tomllib
import urllib.request

import pytest

BUILD = os.environ.get("SYNOD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SYNOD = os.path.join(BUILD, "node", "synod")


def status(port):
    """The node's /status on its admin port (peer port + 2)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port + 2}/status", timeout=3) as r:
        return json.loads(r.read())


def peer_ports(directory):
    with open(os.path.join(directory, "genesis.toml"), "rb") as f:
        return [int(v["address"].rsplit(":", 1)[1]) for v in tomllib.load(f)["validators"]]


def wait(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def keeps_committing(port, blocks=3, timeout=30):
    """True once the node on peer port `port` has committed `blocks` more blocks."""
    start = status(port)["height"]
    return wait(lambda: status(port)["height"] >= start + blocks, timeout)


def synod(*args, timeout=60):
    return subprocess.run([SYNOD, *args], capture_output=True, text=True, timeout=timeout)


class Net:
    """`synod testnet` in the background; stopped with SIGTERM (then SIGKILL) on exit."""

    def __init__(self, directory, nodes):
        self.dir = str(directory)
        self.proc = subprocess.Popen([SYNOD, "testnet", "-n", str(nodes), "-d", self.dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def server_pids(self):
        out = subprocess.run(["pgrep", "-f", f"synod server -c {self.dir}/"], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def wait_committing(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = synod("check", os.path.join(self.dir, "roster.toml"), "--timeout-ms", "1000")
            if r.returncode == 0:
                return
            time.sleep(0.3)
        raise AssertionError("testnet did not come up")


def test_four_servers_commit_through_a_sigkill_and_agree(tmp_path):
    r = synod("demo", "--seconds", "6", "--rate", "200", "--dir", str(tmp_path / "demo"), timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "on all four: equal" in r.stdout, r.stdout
    accepted = int(re.search(r"accepted (\d+)", r.stdout).group(1))
    committed = int(re.search(r"committed (\d+) in", r.stdout).group(1))
    assert accepted >= 1150 and committed == accepted, r.stdout
    assert "caught up" in r.stdout
    assert not leftovers(tmp_path)


def leftovers(path):
    out = subprocess.run(["pgrep", "-f", f"synod server -c {path}"], capture_output=True, text=True).stdout
    return out.split()


def make_node_files(tmp_path, port=7):
    """One validator's files through the CLI (setup, genesis), its peer port `port`."""
    cfg = tmp_path / "cfg"
    r = synod("setup", "--non-interactive", "--config-dir", str(cfg), "--address", f"127.0.0.1:{port}", "--data-dir",
              str(tmp_path / "data"), "--genesis", "genesis.toml")
    assert r.returncode == 0, r.stderr
    r = synod("genesis", "--roster", str(cfg / "public.toml"), "-o", str(cfg / "genesis.toml"))
    assert r.returncode == 0, r.stderr
    return cfg


def test_config_errors_name_the_file_and_the_field(tmp_path):
    cfg = make_node_files(tmp_path)
    private = cfg / "private.toml"
    text = private.read_text()

    os.chmod(private, 0o644)
    r = synod("server", "-c", str(private))
    assert r.returncode == 1 and "private.toml" in r.stderr and "readable by group or others" in r.stderr, r.stderr
    os.chmod(private, 0o600)

    own_key = re.search(r'key = ("[0-9a-f]+")', text).group(1)
    cases = [
        (text + "colour = \"blue\"\n", "colour: unknown field"),
        (re.sub(r"address = .*\n", "", text), "address: is missing"),
        (re.sub(r"address = .*\n", "address = '127.0.0.1'\n", text), "address: must be host:port"),
        (text.replace("key = \"", "key = \"zz", 1), "key: must be 64 hex digits"),
        (text + "[consensus]\nround_timeout_ms = 300\n", "consensus.idle_block_interval_ms: must be below round_timeout_ms"),
        (text + "[client]\nlisten_host = \"localhost\"\n", "client.listen_host: must be an IPv4 or IPv6 address"),
        (text + "[client]\ntls_certificate = \"c.pem\"\n", "client.tls_key: is missing"),
        (text + "[client]\nrequests_per_second = -5\n", "client.requests_per_second: must be between"),
        (text + "[admin]\nlisten_host = \"10.0.0.300\"\n", "admin.listen_host: must be an IPv4 or IPv6 address"),
        (text + "[admin]\npassword_hash = \"hunter2\"\n", "admin.password_hash: must be an Argon2id hash"),
        (text + "[dial]\nzz = \"127.0.0.1:9\"\n", "dial.\"zz\": must be named by a validator's public key in hex"),
        (text + f"[dial]\n\"{'ab' * 32}\" = 9\n", "must be a \"host:port\" string"),
        (text + f"[dial]\n\"{'ab' * 32}\" = \"127.0.0.1:9\"\n", "is not a validator of the genesis roster"),
        (text + "[dial]\n" + own_key + " = \"127.0.0.1:9\"\n", "is this node's own key"),
    ]
    for content, expected in cases:
        private.write_text(content)
        r = synod("server", "-c", str(private))
        assert r.returncode == 1, (expected, r.stderr)
        assert "private.toml" in r.stderr and expected in r.stderr, (expected, r.stderr)

    # A genesis whose roster does not hold this node.
    private.write_text(text)
    other = tmp_path / "other"
    r = synod("setup", "--non-interactive", "--config-dir", str(other), "--address", "127.0.0.1:9")
    assert r.returncode == 0
    os.remove(cfg / "genesis.toml")
    r = synod("genesis", "--roster", str(other / "public.toml"), "-o", str(cfg / "genesis.toml"))
    assert r.returncode == 0
    r = synod("server", "-c", str(private))
    assert r.returncode == 1 and "genesis.toml: validators" in r.stderr and "not in the roster" in r.stderr, r.stderr


def test_setup_refuses_to_overwrite_a_key(tmp_path):
    make_node_files(tmp_path)
    r = synod("setup", "--non-interactive", "--config-dir", str(tmp_path / "cfg"), "--address", "127.0.0.1:7")
    assert r.returncode == 1 and "refusing to overwrite" in r.stderr


def test_check_passes_on_a_healthy_roster_and_names_a_stopped_server(tmp_path):
    with Net(tmp_path / "net", 3) as net:
        net.wait_committing()
        roster = os.path.join(net.dir, "roster.toml")
        r = synod("check", roster, "--genesis", os.path.join(net.dir, "genesis.toml"))
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.count("ok ") == 3, r.stdout
        # Servers on another chain than the genesis given: each named, with the node's reason.
        other = os.path.join(str(tmp_path), "other-genesis.toml")
        with open(os.path.join(net.dir, "genesis.toml")) as f:
            text = f.read()
        with open(other, "w") as f:
            f.write(re.sub(r"chain_name = .*", "chain_name = 'another-chain'", text))
        r = synod("check", roster, "--genesis", other)
        assert r.returncode == 1, r.stdout
        assert len(re.findall(r"FAIL .*testnet node \d .*on chain [0-9a-f]+, expected", r.stdout)) == 3, r.stdout
        pid = [p for p in net.server_pids() if f"{net.dir}/node2/" in open(f"/proc/{p}/cmdline").read().replace("\0", " ")]
        os.kill(pid[0], signal.SIGKILL)
        time.sleep(0.3)
        r = synod("check", roster, "--timeout-ms", "2000")
        assert r.returncode == 1, r.stdout
        assert re.search(r"FAIL .*testnet node 2", r.stdout), r.stdout
    assert not net.server_pids()


def test_a_second_server_on_the_same_data_folder_is_refused(tmp_path):
    with Net(tmp_path / "net", 1) as net:
        net.wait_committing()
        r = synod("server", "-c", os.path.join(net.dir, "node0", "private.toml"), timeout=20)
        assert r.returncode == 1, r.stderr
        assert "another synod server running" in r.stderr, r.stderr
    assert not net.server_pids()


def test_sigterm_stops_within_seconds_and_keeps_the_chain(tmp_path):
    with Net(tmp_path / "net", 1) as net:
        net.wait_committing()
        time.sleep(1.5)
        started = time.time()
        net.stop()
        assert time.time() - started < 10
        log = open(os.path.join(net.dir, "node0", "server.log")).read()
        stopped = int(re.findall(r"stopped at committed height (\d+)", log)[-1])
        assert stopped > 0, log
    with Net(tmp_path / "net", 1) as net:
        net.wait_committing()
        log = open(os.path.join(net.dir, "node0", "server.log")).read()
        restarted = int(re.findall(r"listening on .* committed height (\d+)", log)[-1])
        assert restarted >= stopped, log


def test_a_node_down_longer_than_the_peers_window_catches_up_from_their_stores(tmp_path):
    directory = str(tmp_path / "net")
    with Net(directory, 4) as net:
        net.wait_committing()
    # Restarted from its files, with peers that keep 8 committed blocks in memory.
    for i in range(4):
        path = os.path.join(directory, f"node{i}", "private.toml")
        with open(path) as f:
            text = re.sub(r"\n\[consensus\][^\[]*", "\n", f.read())
        with open(path, "w") as f:
            f.write(text + "\n[consensus]\nround_timeout_ms = 300\nidle_block_interval_ms = 50\ncommitted_blocks_kept_max = 8\n")
    ports = peer_ports(directory)
    with Net(directory, 4) as net:
        net.wait_committing()
        node3 = next(p for p in net.server_pids()
                     if f"{directory}/node3/" in open(f"/proc/{p}/cmdline").read().replace("\0", " "))
        os.kill(node3, signal.SIGTERM)
        assert wait(lambda: node3 not in net.server_pids(), 15)
        down_at = status(ports[0])["height"]
        assert wait(lambda: status(ports[0])["height"] >= down_at + 30, 120), status(ports[0])
        target = status(ports[0])["height"]
        with open(os.path.join(directory, "node3", "server.log"), "a") as log:
            server = subprocess.Popen([SYNOD, "server", "-c", os.path.join(directory, "node3", "private.toml")],
                                      stdout=log, stderr=subprocess.STDOUT)
        try:
            assert wait(lambda: status(ports[3])["height"] >= target, 60), status(ports[3])
            served = sum(status(ports[i])["counters"]["store_syncs_served"] for i in range(3))
            assert served >= 1, [status(ports[i])["counters"] for i in range(3)]
        finally:
            server.terminate()
            server.wait(timeout=15)
    assert not net.server_pids()


def free_peer_port():
    """A port P with P+1 (client) and P+2 (admin) free on 127.0.0.1, read back from a bind to port 0."""
    import socket
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 2 > 65535:
            continue
        try:
            for other in (port + 1, port + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", other))
        except OSError:
            continue
        return port
    raise AssertionError("no free port")


def test_json_log_lines_are_json_in_the_daily_file(tmp_path):
    port = free_peer_port()
    cfg = make_node_files(tmp_path, port)
    with open(cfg / "private.toml", "a") as f:
        f.write('\n[log]\nformat = "json"\n')
    server = subprocess.Popen([SYNOD, "server", "-c", str(cfg / "private.toml")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert wait(lambda: status(port)["height"] >= 2, 30)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=15)
    assert server.returncode == 0, stderr
    files = list((tmp_path / "data" / "logs").glob("synod_*.log"))
    assert len(files) == 1, files
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert lines and all(set(l) == {"time", "level", "msg"} for l in lines), lines[:3]
    assert any(l["msg"].startswith("stopping on SIGTERM") for l in lines)
    assert [json.loads(line) for line in stderr.splitlines()] == lines  # the same lines on stderr


def test_reset_state_keeps_the_key_and_refuses_without_a_safety_record(tmp_path):
    port = free_peer_port()
    cfg = make_node_files(tmp_path, port)
    server = subprocess.Popen([SYNOD, "server", "-c", str(cfg / "private.toml")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert wait(lambda: status(port)["height"] >= 3, 30)
        r = synod("reset-state", "-c", str(cfg / "private.toml"))
        assert r.returncode == 1 and "running" in r.stderr, r.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    data = tmp_path / "data"
    ledger = next(data.glob("*.mdb"))
    safety = next(data.glob("*.safety"))
    # A node that lost its record keeps its ledger: the AmnesiaRule needs it.
    saved = safety.read_bytes()
    safety.unlink()
    r = synod("reset-state", "-c", str(cfg / "private.toml"))
    assert r.returncode == 1 and "no safety record" in r.stderr, r.stderr
    assert ledger.exists()
    safety.write_bytes(saved)
    r = synod("reset-state", "-c", str(cfg / "private.toml"))
    assert r.returncode == 0, r.stderr
    assert not ledger.exists() and safety.read_bytes() == saved


def test_sigterm_under_load_stops_within_seconds_and_loses_nothing(tmp_path):
    directory = str(tmp_path / "net")
    with Net(directory, 1) as net:
        net.wait_committing()
    port = peer_ports(directory)[0]
    private = os.path.join(directory, "node0", "private.toml")
    server = subprocess.Popen([SYNOD, "server", "-c", private], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    load = None
    try:
        assert wait(lambda: status(port)["height"] >= 1, 30)
        load = subprocess.Popen([SYNOD, "load", "--genesis", os.path.join(directory, "genesis.toml"), "--rate", "500",
                                 "--seconds", "6"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert wait(lambda: status(port)["committed_txs"] >= 300, 30)
        server.send_signal(signal.SIGTERM)
        started = time.time()
        _, log = server.communicate(timeout=10)
        assert time.time() - started < 5, log
        assert server.returncode == 0, log
        stopped = int(re.findall(r"stopped at committed height (\d+)", log)[-1])
    finally:
        if server.poll() is None:
            server.kill()
        if load:
            load.kill()
            load.wait()
    server = subprocess.Popen([SYNOD, "server", "-c", private], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert wait(lambda: status(port)["height"] >= stopped, 30)
    finally:
        server.send_signal(signal.SIGTERM)
        _, log = server.communicate(timeout=15)
    restarted = int(re.findall(r"committed height (\d+)", log)[0])
    assert restarted >= stopped, log
