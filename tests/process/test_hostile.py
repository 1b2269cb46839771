"""Hostile input against a real four-node testnet (docs/transport.md): every
refusal comes with its reason and a counter in /status, a key outside the
roster gets client rights only, malformed, oversized, stalled and flooded
input each get a typed rejection, and the cluster keeps committing with the
target's memory bounded. The testnet is started once for the module and
stopped at its end, also on failure."""
import os
import re
import struct
import time
import tomllib

import pytest

import hostile
from test_node import Net, keeps_committing, peer_ports, status


def counter(port, group, name=None):
    c = status(port)["counters"]
    value = c.get(group, {} if name else 0)
    return value.get(name, 0) if name else value


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile")
    with Net(directory / "net", 4) as n:
        n.wait_committing()
        n.ports = peer_ports(n.dir)
        n.chain = bytes.fromhex(status(n.ports[0])["chain_id"])
        n.scratch = str(directory)
        yield n
    assert not n.server_pids()


def connected(net, port, name):
    """A peer with a fresh key outside the roster, past the Hello: (peer, its public key)."""
    cert, key, public = hostile.identity(net.scratch, name)
    peer = hostile.Peer(port, cert, key)
    assert peer.handshake(net.chain, public)[0] == hostile.KIND["hello"]
    return peer, public


def test_refusals_name_their_reason_and_are_counted(net):
    port = net.ports[0]
    cert, key, public = hostile.identity(net.scratch, "stranger")
    other_chain = bytes([net.chain[0] ^ 1]) + net.chain[1:]
    cases = [
        (dict(chain=other_chain, public=public), "wrong_chain"),
        (dict(chain=net.chain, public=public, version=0), "wrong_version"),
        # A certificate for one key, a Hello for a validator's.
        (dict(chain=net.chain, public=bytes.fromhex(status(net.ports[1])["public_key"])), "hello_key_mismatch"),
    ]
    for hello_args, reason in cases:
        before = counter(port, "peer_refused", reason)
        peer = hostile.Peer(port, cert, key)
        first = peer.handshake(**hello_args)
        assert first is not None and first[0] == hostile.KIND["hello"]
        assert peer.closed_with() == reason
        peer.close()
        assert counter(port, "peer_refused", reason) == before + 1
    # No client certificate: TLS itself refuses.
    before = counter(port, "peer_refused", "tls_failed")
    try:
        peer = hostile.Peer(port)
        assert peer.read_frame() is None
        peer.close()
    except OSError:
        pass
    time.sleep(0.2)
    assert counter(port, "peer_refused", "tls_failed") == before + 1
    assert keeps_committing(port)


def test_a_key_outside_the_roster_has_client_rights_only(net):
    port = net.ports[1]
    peer, public = connected(net, port, "client")
    before = counter(port, "messages_from_non_validators")
    peer.send(hostile.frame("message", hostile.vote_message(b"\1" * 32, 5, 5, 0, b"\2" * 64)))
    # A client request on the same connection is still answered.
    query = hostile.field_varint(1, 77) + hostile.field_bytes(3, hostile.field_bytes(1, public))  # QueryAccount
    peer.send(hostile.frame("client_request", query))
    kind, payload = peer.read_frame()
    assert kind == hostile.KIND["client_response"]
    assert counter(port, "messages_from_non_validators") == before + 1
    peer.close()


def test_malformed_oversized_and_unknown_frames_get_typed_rejections(net):
    port = net.ports[2]
    peer, _ = connected(net, port, "garbage")
    before = counter(port, "decode_errors", "MALFORMED")
    peer.send(hostile.frame("client_request", b"\xff\xff\xff\xff\x0f"))
    time.sleep(0.3)
    assert counter(port, "decode_errors", "MALFORMED") == before + 1
    # The connection survived the bad payload: an unknown kind ends it.
    peer.send(struct.pack(">IB", 1, 99))
    assert peer.closed_with() == "bad_frame_kind"
    peer.close()

    peer, _ = connected(net, port, "oversized")
    before = counter(port, "peer_refused", "frame_too_large")
    peer.send(struct.pack(">I", (16 << 20) + 2))  # one byte over frame_bytes_max + 1
    assert peer.closed_with() == "frame_too_large"
    peer.close()
    assert counter(port, "peer_refused", "frame_too_large") == before + 1
    assert keeps_committing(port)


def test_before_the_hello_only_a_hello_sized_frame_is_read(net):
    port = net.ports[3]
    cert, key, public = hostile.identity(net.scratch, "early")
    peer = hostile.Peer(port, cert, key)
    before = counter(port, "peer_refused", "frame_too_large")
    peer.send(struct.pack(">I", 258))  # one byte over handshake_frame_bytes_max
    assert peer.closed_with() == "frame_too_large"
    peer.close()
    assert counter(port, "peer_refused", "frame_too_large") == before + 1


def test_a_frame_that_stalls_after_its_length_is_cut(net):
    port = net.ports[3]
    peer, _ = connected(net, port, "slowloris")
    before = counter(port, "peer_refused", "frame_stalled")
    peer.send(struct.pack(">I", 1000) + b"\4" + b"x" * 9)
    started = time.time()
    assert peer.closed_with(timeout=30) is None  # cut without a word
    assert 8 <= time.time() - started <= 20
    peer.close()
    assert counter(port, "peer_refused", "frame_stalled") == before + 1


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def test_a_flood_of_unsigned_messages_from_a_compromised_key_is_rejected_and_bounded(net):
    # Validator 3's own key, read from its private.toml: a compromised key.
    with open(os.path.join(net.dir, "node3", "private.toml"), "rb") as f:
        seed = bytes.fromhex(tomllib.load(f)["secret"])
    cert, key, public = hostile.identity(net.scratch, "compromised", seed)
    port = net.ports[0]
    pid = next(p for p in net.server_pids()
               if f"{net.dir}/node0/" in open(f"/proc/{p}/cmdline").read().replace("\0", " "))
    rss_before = rss_kb(pid)
    peer = hostile.Peer(port, cert, key)
    assert peer.handshake(net.chain, public)[0] == hostile.KIND["hello"]
    rejected_before = sum(counter(port, "replica_rejected").values())
    round_ = status(port)["round"]
    frames = []
    for i in range(20000):
        sig = os.urandom(64)
        if i % 2:
            frames.append(hostile.frame("message", hostile.vote_message(os.urandom(32), round_ + 1 + i % 8, 1, 3, sig)))
        else:
            frames.append(hostile.frame("message", hostile.timeout_message(round_ + i % 8, 3, sig)))
    peer.send(b"".join(frames))
    assert keeps_committing(port, blocks=5)
    time.sleep(1)
    rejected = sum(counter(port, "replica_rejected").values()) - rejected_before
    assert rejected >= 15000, rejected
    assert rss_kb(pid) - rss_before < 64 * 1024, (rss_before, rss_kb(pid))
    peer.close()
    # Logged once per peer and reason, not once per frame.
    log = open(os.path.join(net.dir, "node0", "server.log")).read()
    lines = [l for l in log.splitlines() if "refused a " in l and " from n3: " in l]
    assert 1 <= len(lines) <= 4, lines
