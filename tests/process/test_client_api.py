"""The client and admin ports of real `synod server` processes
(docs/client_api.md, docs/operating.md), driven by an independent client:
Python's standard library, `cryptography` for Ed25519 and `websockets`,
with the sign-bytes written from docs/protocol.md, not from our code. Then
the same through `synod tx`; bad input on every route; /metrics through
Prometheus's own parser; the admin password; NETWORK while a node is out of
consensus; the status page in headless Chromium. Every process started here
is stopped here, also when a test fails."""
import asyncio
import hashlib
import html.parser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from prometheus_client.parser import text_string_to_metric_families

from test_node import SYNOD, Net, keeps_committing, peer_ports, status, synod, wait


# ---- an independent client ------------------------------------------------

def put_var(data):
    return struct.pack(">I", len(data)) + data


def funded_key(i):
    """The testnet's funded account i: seed = SHA-256("synod-testnet/account/i")."""
    seed = hashlib.sha256(f"synod-testnet/account/{i}".encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def transfer(chain, key, sender, nonce, to, amount, corrupt=False):
    """A signed transfer as POST /v1/tx takes it, and its hash."""
    sign_bytes = (put_var(b"synod/tx/v1") + chain + sender + struct.pack(">Q", nonce) + b"\x01" + to +
                  struct.pack(">Q", amount))
    tx_hash = hashlib.sha256(sign_bytes).digest()
    sig = bytearray(key.sign(put_var(b"synod/tx-sig/v1") + tx_hash))
    if corrupt:
        sig[5] ^= 1
    body = {"sender": sender.hex(), "nonce": nonce, "transfer": {"to": to.hex(), "amount": amount},
            "signature": bytes(sig).hex()}
    return body, tx_hash.hex()


def call(port, method, path, body=None, timeout=10):
    """(status, JSON answer) from the client port P+1."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(f"http://127.0.0.1:{port + 1}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def raw(port, data, timeout=15):
    """Bytes sent as they are to the client port; the answer's status line and body."""
    with socket.create_connection(("127.0.0.1", port + 1), timeout=timeout) as s:
        s.sendall(data)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body


def metrics(port):
    """Every sample of /metrics on the admin port, parsed by prometheus_client: {(name, labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port + 2}/metrics", timeout=5) as r:
        text = r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def metric(node_port, name, /, **labels):
    return metrics(node_port).get((name, tuple(sorted(labels.items()))), 0)


def chain_of(port):
    return bytes.fromhex(call(port, "GET", "/v1/chain")[1]["chain_id"])


def nonce_of(port, public):
    return call(port, "GET", f"/v1/account/{public.hex()}")[1]["nonce"]


async def fates(port, hashes, timeout=30):
    """Each transaction's final fate, followed on the WebSocket of node `port`."""
    async with websockets.connect(f"ws://127.0.0.1:{port + 1}/v1/ws") as ws:
        for h in hashes:
            await ws.send(json.dumps({"subscribe": "tx", "hash": h}))
        final = {}

        async def collect():
            while len(final) < len(hashes):
                event = json.loads(await ws.recv())
                assert event["event"] == "tx", event
                if event["state"] in ("committed", "rejected"):
                    final[event["hash"]] = event
        await asyncio.wait_for(collect(), timeout)
        return final


async def commits(port, count, timeout=30):
    async with websockets.connect(f"ws://127.0.0.1:{port + 1}/v1/ws") as ws:
        await ws.send(json.dumps({"subscribe": "commits"}))
        assert json.loads(await ws.recv()) == {"event": "subscribed", "to": "commits"}
        events = []

        async def collect():
            while len(events) < count:
                events.append(json.loads(await ws.recv()))
        await asyncio.wait_for(collect(), timeout)
        return events


def in_consensus(ports, timeout=30):
    assert wait(lambda: not any(status(p)["catching_up"] for p in ports), timeout), [status(p) for p in ports]


# ---- a four-node testnet for the module ------------------------------------

@pytest.fixture(scope="module")
def net(tmp_path_factory):
    directory = tmp_path_factory.mktemp("client")
    with Net(directory / "net", 4) as n:
        n.wait_committing()
        n.ports = peer_ports(n.dir)
        in_consensus(n.ports)
        n.chain = chain_of(n.ports[0])
        n.scratch = directory
        yield n
    assert not n.server_pids()


def test_transfers_over_http_commit_and_the_stream_reports_each_fate(net):
    ports = net.ports
    to = funded_key(63)[1]
    before = call(ports[2], "GET", f"/v1/account/{to.hex()}")[1]["balance"]
    submitted = []
    for a in range(10, 22):
        key, public = funded_key(a)
        body, tx_hash = transfer(net.chain, key, public, nonce_of(ports[0], public), to, 7)
        code, answer = call(ports[a % 4], "POST", "/v1/tx", body)
        assert code == 202 and answer == {"hash": tx_hash}, answer
        submitted.append(tx_hash)
    final = asyncio.run(fates(ports[1], submitted))
    assert set(final) == set(submitted)
    top = max(f["height"] for f in final.values())
    for p in ports:  # the others may be a block behind the node that reported the fates
        assert wait(lambda: status(p)["height"] >= top, 10)
    for h, fate in final.items():
        assert fate["state"] == "committed" and fate["outcome"] == "executed", fate
        code, again = call(ports[3], "GET", f"/v1/tx/{h}")
        assert code == 200 and again["height"] == fate["height"] and again["index"] == fate["index"], again
        code, block = call(ports[2], "GET", f"/v1/block/{fate['height']}")
        assert code == 200 and block["txs"][fate["index"]]["hash"] == h, block
    assert call(ports[2], "GET", f"/v1/account/{to.hex()}")[1]["balance"] == before + 7 * len(submitted)
    code, latest = call(ports[0], "GET", "/v1/block/latest")
    assert code == 200 and latest["height"] >= max(f["height"] for f in final.values())


def test_the_commit_stream_reports_every_block_with_its_transactions(net):
    ports = net.ports
    key, public = funded_key(22)
    events = []

    async def watch_while_submitting():
        watcher = asyncio.create_task(commits(ports[3], 6))
        await asyncio.sleep(0.5)
        body, tx_hash = transfer(net.chain, key, public, nonce_of(ports[0], public), funded_key(0)[1], 1)
        assert call(ports[0], "POST", "/v1/tx", body)[0] == 202
        events.extend(await watcher)
        return tx_hash
    tx_hash = asyncio.run(watch_while_submitting())
    heights = [e["height"] for e in events]
    assert heights == list(range(heights[0], heights[0] + len(heights))), heights
    assert any(t["hash"] == tx_hash and t["outcome"] == "executed" for e in events for t in e["txs"]), events


def test_synod_tx_signs_submits_waits_and_reads(net):
    url = f"http://127.0.0.1:{net.ports[1] + 1}"
    key_file = str(net.scratch / "client.key")
    r = synod("tx", "keygen", "--key-file", key_file)
    assert r.returncode == 0, r.stderr
    mine = json.loads(r.stdout)["key"]
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    r = synod("tx", "--url", url, "--testnet-account", "40", "transfer", mine, "1000", "--wait")
    assert r.returncode == 0, r.stderr
    fate = json.loads(r.stdout)
    assert fate["state"] == "committed" and fate["outcome"] == "executed", fate
    r = synod("tx", "--url", url, "--key-file", key_file, "account")
    assert r.returncode == 0 and json.loads(r.stdout) == {"key": mine, "balance": 1000, "nonce": 0}, r.stdout + r.stderr
    # Without --url: the node's url from its public.toml (node 3 may be a block behind node 1).
    via_public = ["tx", "--public", os.path.join(net.dir, "node3", "public.toml"), "--key-file", key_file, "account"]
    assert wait(lambda: json.loads(synod(*via_public).stdout)["balance"] == 1000, 10), synod(*via_public)
    r = synod("tx", "--url", url, "--key-file", key_file, "store", "colour", "blue", "--wait")
    assert r.returncode == 0, r.stderr
    get = ["tx", "--url", f"http://127.0.0.1:{net.ports[2] + 1}", "get", mine, "colour"]  # node 2: maybe a block behind
    assert wait(lambda: synod(*get).returncode == 0, 10), synod(*get)
    assert json.loads(synod(*get).stdout)["text"] == "blue"
    r = synod("tx", "--url", url, "status", fate["hash"])
    assert r.returncode == 0 and json.loads(r.stdout)["height"] == fate["height"]
    # More than the balance: committed, failed, and the exit code says so.
    r = synod("tx", "--url", url, "--key-file", key_file, "transfer", funded_key(40)[1].hex(), "5000", "--wait")
    assert r.returncode == 1 and json.loads(r.stdout)["error"] == "INSUFFICIENT_BALANCE", r.stdout + r.stderr
    # A replay is refused with its typed error.
    r = synod("tx", "--url", url, "--testnet-account", "40", "transfer", mine, "1000", "--nonce", "0")
    assert r.returncode == 1 and "DUPLICATE" in r.stderr, r.stderr
    r = synod("tx", "--url", url, "watch", "--count", "2")
    assert r.returncode == 0 and [json.loads(l)["event"] for l in r.stdout.splitlines()] == ["commit", "commit"]
    r = synod("tx", "--url", url, "account", "zz" * 32)
    assert r.returncode == 2 and "64 hex digits" in r.stderr, r.stderr
    for mistyped in (["tx", "transfer", mine], ["tx", "--bogus"], ["tx-send"]):
        r = synod(*mistyped)
        assert r.returncode == 2 and r.stderr, (mistyped, r.returncode, r.stderr)
    r = synod("tx", "--url", "http://127.0.0.1:1", "--timeout-ms", "2000", "account", mine)
    assert r.returncode == 3 and "cannot connect" in r.stderr, r.stderr


def test_bad_input_on_every_route_gets_a_typed_error_and_a_counter(net):
    port = net.ports[2]
    key, public = funded_key(23)
    good, _ = transfer(net.chain, key, public, nonce_of(port, public), funded_key(0)[1], 1)
    forged, _ = transfer(net.chain, key, public, nonce_of(port, public), funded_key(0)[1], 1, corrupt=True)
    other_chain, _ = transfer(hashlib.sha256(b"another chain").digest(), key, public, nonce_of(port, public),
                              funded_key(0)[1], 1)
    ahead, _ = transfer(net.chain, key, public, nonce_of(port, public) + 5000, funded_key(0)[1], 1)
    errors_before = {code: metric(port, "synod_client_errors_total", code=code)
                     for code in ("BAD_REQUEST", "BAD_SIGNATURE", "BAD_NONCE", "NOT_FOUND", "DUPLICATE")}
    cases = [
        ("POST", "/v1/tx", b"{not json", 400, "BAD_REQUEST"),
        ("POST", "/v1/tx", {**good, "nonce": -1}, 400, "BAD_REQUEST"),
        ("POST", "/v1/tx", {**good, "sender": 5}, 400, "BAD_REQUEST"),
        ("POST", "/v1/tx", {**good, "transfer": {"to": good["transfer"]["to"], "amount": "1"}}, 400, "BAD_REQUEST"),
        ("POST", "/v1/tx", {**good, "store": {"key": "00", "value": "00"}}, 400, "BAD_REQUEST"),
        ("POST", "/v1/tx", {**good, "extra": 1}, 400, "BAD_REQUEST"),
        ("POST", "/v1/tx", [1, 2], 400, "BAD_REQUEST"),
        ("POST", "/v1/tx", forged, 400, "BAD_SIGNATURE"),
        ("POST", "/v1/tx", other_chain, 400, "BAD_SIGNATURE"),
        ("POST", "/v1/tx", ahead, 409, "BAD_NONCE"),
        ("GET", "/v1/tx", None, 400, "BAD_REQUEST"),
        ("GET", "/v1/tx/xyz", None, 400, "BAD_REQUEST"),
        ("GET", "/v1/tx/" + "00" * 32, None, 404, "NOT_FOUND"),
        ("GET", "/v1/account/" + "0" * 63, None, 400, "BAD_REQUEST"),
        ("GET", "/v1/value/" + "00" * 32 + "/zz", None, 400, "BAD_REQUEST"),
        ("GET", "/v1/value/" + "00" * 32 + "/00", None, 404, "NOT_FOUND"),
        ("GET", "/v1/block/abc", None, 400, "BAD_REQUEST"),
        ("GET", "/v1/block/99999999999", None, 404, "NOT_FOUND"),
        ("GET", "/nowhere", None, 404, "NOT_FOUND"),
        ("DELETE", "/v1/chain", None, 400, "BAD_REQUEST"),
    ]
    for method, path, body, want_status, want_code in cases:
        code, answer = call(port, method, path, body)
        assert (code, answer["error"]) == (want_status, want_code), (method, path, body, answer)
        assert answer["message"], answer
    assert "next nonce" in call(port, "POST", "/v1/tx", ahead)[1]["message"]
    # A replay of a committed transaction.
    assert call(port, "POST", "/v1/tx", good)[0] == 202
    assert asyncio.run(fates(port, [transfer(net.chain, key, public, good["nonce"], funded_key(0)[1], 1)[1]]))
    assert call(port, "POST", "/v1/tx", good)[1]["error"] == "DUPLICATE"
    # Malformed HTTP, a huge body announced, huge headers.
    line, body = raw(port, b"GARBAGE\r\n\r\n")
    assert "400" in line and json.loads(body)["error"] == "BAD_REQUEST", (line, body)
    line, body = raw(port, b"POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
    assert "413" in line and json.loads(body)["error"] == "REQUEST_TOO_LARGE", (line, body)
    line, body = raw(port, b"GET /v1/chain HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * 100_000 + b"\r\n\r\n")
    assert "413" in line, line
    # A slow client that never finishes its request is answered at the deadline.
    started = time.time()
    line, body = raw(port, b"POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", timeout=30)
    assert "408" in line and json.loads(body)["error"] == "TIMEOUT", (line, body)
    assert 9 <= time.time() - started <= 20
    after = metrics(port)
    for code, want in (("BAD_REQUEST", 13), ("BAD_SIGNATURE", 2), ("BAD_NONCE", 2), ("NOT_FOUND", 4), ("DUPLICATE", 1)):
        got = after[("synod_client_errors_total", (("code", code),))] - errors_before[code]
        assert got >= want, (code, got)
    for reason in ("malformed", "too_large", "timeout"):
        assert after.get(("synod_http_refused_total", (("port", "client"), ("reason", reason))), 0) >= 1, reason
    assert keeps_committing(port)


def test_metrics_parse_and_move_as_transactions_commit(net):
    port = net.ports[0]
    before = metrics(port)
    names = {name for name, _ in before}
    for family in ("synod_height", "synod_round", "synod_committed_txs_total", "synod_votes_sent_total",
                   "synod_proposals_sent_total", "synod_timeouts_sent_total", "synod_qcs_formed_total",
                   "synod_mempool_txs", "synod_mempool_bytes", "synod_fsync_seconds_bucket",
                   "synod_commit_latency_seconds_count", "synod_round_duration_seconds_sum",
                   "synod_block_interval_seconds_count", "synod_peer_connected", "synod_peer_sent_bytes_total",
                   "synod_messages_received_total", "synod_rejected_total", "synod_catching_up"):
        assert family in names, family
    key, public = funded_key(24)
    hashes = []
    for n in range(3):
        body, h = transfer(net.chain, key, public, nonce_of(port, public) + n, funded_key(0)[1], 1)
        assert call(port, "POST", "/v1/tx", body)[0] == 202
        hashes.append(h)
    asyncio.run(fates(port, hashes))
    after = metrics(port)
    assert after[("synod_committed_txs_total", ())] >= before[("synod_committed_txs_total", ())] + 3
    assert after[("synod_commit_latency_seconds_count", ())] >= before[("synod_commit_latency_seconds_count", ())] + 3
    assert after[("synod_client_submitted_total", ())] >= before[("synod_client_submitted_total", ())] + 3
    assert after[("synod_height", ())] > before[("synod_height", ())]
    assert all(after[("synod_peer_connected", (("peer", str(p)),))] == 1 for p in (1, 2, 3))
    if shutil.which("promtool"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port + 2}/metrics", timeout=5) as r:
            check = subprocess.run(["promtool", "check", "metrics"], input=r.read(), capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_websocket_limits_and_errors(net):
    port = net.ports[1]

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{port + 1}/v1/ws") as ws:
            await ws.send("not json")
            assert json.loads(await ws.recv())["error"] == "BAD_REQUEST"
            for i in range(16):
                await ws.send(json.dumps({"subscribe": "tx", "hash": f"{i:064x}"}))
                assert json.loads(await ws.recv())["state"] == "unknown"
            await ws.send(json.dumps({"subscribe": "tx", "hash": f"{99:064x}"}))
            assert json.loads(await ws.recv())["error"] == "TOO_MANY_SUBSCRIPTIONS"
            await ws.send("x" * 5000)  # above ws_message_bytes_max: the node closes the connection
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.code == 1009
    asyncio.run(go())
    assert metric(port, "synod_http_refused_total", port="client", reason="ws_message_too_large") >= 1


def listening_addresses(port):
    """The local addresses listening on TCP `port`, from /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.append(address)
    return found


def test_admin_port_is_loopback_only_and_its_routes_need_the_password(net):
    port = net.ports[3]
    assert listening_addresses(port + 2) == ["0100007F"], listening_addresses(port + 2)
    password = open(os.path.join(net.dir, "admin-password")).read().strip()
    admin = f"http://127.0.0.1:{port + 2}"

    def request(method, path, password=None):
        r = urllib.request.Request(admin + path, method=method, data=b"" if method == "POST" else None)
        if password is not None:
            import base64
            r.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{password}".encode()).decode())
        try:
            with urllib.request.urlopen(r, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
    assert request("GET", "/backups")[0] == 401
    assert request("GET", "/backups", "wrong password!")[0] == 401
    assert request("GET", "/backups", password)[0] == 429  # locked for a second after a wrong one
    time.sleep(1.2)
    code, taken = request("POST", "/backup", password)
    assert code == 200 and os.path.exists(taken["file"]), taken
    code, listed = request("GET", "/backups", password)
    assert code == 200 and taken["file"] in [b["file"] for b in listed["backups"]], listed
    assert request("POST", "/log-level?level=debug", password) == (200, {"level": "debug"})
    assert request("POST", "/log-level?level=loud", password)[0] == 400
    assert metric(port, "synod_admin_auth_failures_total") >= 1
    assert metric(port, "synod_admin_auth_lockouts_total") >= 1
    assert status(port)["latest_backup"] is not None


class Rows(html.parser.HTMLParser):
    """The status page's validator rows after its script ran: {node: {field: text}}."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.field = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-node" in a:
            self.row = self.rows.setdefault(a["data-node"], {})
        elif tag == "td" and self.row is not None:
            self.field = a.get("data-field")

    def handle_data(self, data):
        if self.row is not None and self.field:
            self.row[self.field] = self.row.get(self.field, "") + data

    def handle_endtag(self, tag):
        if tag == "td":
            self.field = None
        elif tag == "tr":
            self.row = None


def test_the_status_page_in_chromium_shows_four_validators_and_their_heights(net, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: scripts/bootstrap installs it"
    port = net.ports[0]
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
                        "--virtual-time-budget=5000", "--dump-dom", f"http://127.0.0.1:{port + 2}/"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    page = Rows()
    page.feed(r.stdout)
    assert sorted(page.rows) == ["0", "1", "2", "3"], r.stdout[-3000:]
    height = status(port)["height"]
    for node, row in page.rows.items():
        assert row["reachable"] == "yes", row
        assert 0 < int(row["height"]) <= height + 5, row
    assert "in consensus" in r.stdout


# ---- limits, and NETWORK while out of consensus: a testnet of its own ------

def set_client_limits(directory, node, text):
    with open(os.path.join(directory, f"node{node}", "private.toml"), "a") as f:
        f.write("\n[client]\n" + text)


def tls_files(directory):
    """A self-signed certificate for 127.0.0.1 and its key, in PEM."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return cert, key


def check_tls_client_port(port, cert, chain):
    """Node `port` serves its client API over TLS only: HTTPS and WSS with the CA, refusals without."""
    import ssl
    context = ssl.create_default_context(cafile=cert)
    url = f"https://127.0.0.1:{port + 1}"
    with urllib.request.urlopen(url + "/v1/chain", context=context, timeout=10) as r:
        assert json.loads(r.read())["chain_id"] == chain.hex()
    with pytest.raises(OSError):
        call(port, "GET", "/v1/chain")  # plain HTTP on a TLS port
    r = synod("tx", "--url", url, "--ca", cert, "account", "00" * 32)
    assert r.returncode == 0 and json.loads(r.stdout)["balance"] == 0, r.stdout + r.stderr
    r = synod("tx", "--url", url, "--timeout-ms", "5000", "account", "00" * 32)
    assert r.returncode == 3 and "certificate verify failed" in r.stderr, r.stderr

    async def one_commit():
        async with websockets.connect(f"wss://127.0.0.1:{port + 1}/v1/ws", ssl=context) as ws:
            await ws.send(json.dumps({"subscribe": "commits"}))
            assert json.loads(await ws.recv())["event"] == "subscribed"
            return json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert asyncio.run(one_commit())["event"] == "commit"


def test_tls_limits_and_network_errors_while_out_of_consensus(tmp_path):
    directory = str(tmp_path / "net")
    with Net(directory, 4) as n:
        n.wait_committing()
    set_client_limits(directory, 0, "requests_per_second = 20\nconnections_max = 8\n")
    cert, key = tls_files(str(tmp_path))
    set_client_limits(directory, 1, f'tls_certificate = "{cert}"\ntls_key = "{key}"\n')
    ports = peer_ports(directory)
    paused = []
    with Net(directory, 4) as n:
        n.wait_committing()
        in_consensus(ports)
        chain = chain_of(ports[2])
        try:
            check_tls_client_port(ports[1], cert, chain)
            # Requests per second from one address: a burst of 40, then RATE_LIMITED.
            answers = [call(ports[0], "GET", "/v1/chain")[0] for _ in range(60)]
            assert answers.count(429) >= 10 and answers[0] == 200, answers
            assert metric(ports[0], "synod_http_refused_total", port="client", reason="rate_limited") >= 10
            time.sleep(2.5)
            # Connections: 8 held open, the ninth is answered BUSY.
            held = [socket.create_connection(("127.0.0.1", ports[0] + 1)) for _ in range(8)]
            time.sleep(0.3)
            line, body = raw(ports[0], b"GET /v1/chain HTTP/1.1\r\nHost: x\r\n\r\n")
            assert "503" in line and json.loads(body)["error"] == "BUSY", (line, body)
            for s in held:
                s.close()
            time.sleep(0.5)
            assert wait(lambda: call(ports[0], "GET", "/v1/chain")[0] == 200, 10)
            # Two of four paused: no quorum, so nobody commits and clients get NETWORK.
            pids = {i: pid for pid in n.server_pids() for i in range(4)
                    if f"{directory}/node{i}/" in open(f"/proc/{pid}/cmdline").read().replace("\0", " ")}
            for i in (1, 2):
                os.kill(pids[i], signal.SIGSTOP)
                paused.append(pids[i])
            assert wait(lambda: status(ports[3])["catching_up"], 30), status(ports[3])
            key, public = funded_key(5)
            body, _ = transfer(chain, key, public, 0, funded_key(6)[1], 1)
            code, answer = call(ports[3], "POST", "/v1/tx", body)
            assert (code, answer["error"]) == (503, "NETWORK"), answer
            assert call(ports[3], "GET", f"/v1/account/{public.hex()}")[1]["error"] == "NETWORK"
            assert call(ports[3], "GET", "/v1/chain")[1]["catching_up"] is True
            # n3 killed and restarted while the network cannot commit: catching up from launch.
            os.kill(pids[3], signal.SIGKILL)
            assert wait(lambda: pids[3] not in n.server_pids(), 10)
            with open(os.path.join(directory, "node3", "server.log"), "a") as log:
                restarted = subprocess.Popen([SYNOD, "server", "-c", os.path.join(directory, "node3", "private.toml")],
                                             stdout=log, stderr=subprocess.STDOUT)
            try:
                assert wait(lambda: status(ports[3])["catching_up"] is True, 15)
                assert call(ports[3], "POST", "/v1/tx", body)[1]["error"] == "NETWORK"
                assert metric(ports[3], "synod_client_errors_total", code="NETWORK") >= 1
                for pid in paused:
                    os.kill(pid, signal.SIGCONT)
                paused.clear()
                assert wait(lambda: not status(ports[3])["catching_up"], 60), status(ports[3])
                code, answer = call(ports[3], "POST", "/v1/tx", body)
                assert code == 202, answer
                assert asyncio.run(fates(ports[3], [answer["hash"]]))[answer["hash"]]["state"] == "committed"
            finally:
                restarted.terminate()
                restarted.wait(timeout=15)
        finally:
            for pid in paused:
                os.kill(pid, signal.SIGCONT)
    assert not n.server_pids()
