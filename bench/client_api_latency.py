#!/usr/bin/python3
"""The client API's latency on a local four-node testnet: signed transfers
POSTed over HTTP at a steady rate, spread over the four nodes, and for each
the time from sending it to the WebSocket commit event that carries it (from
the node it was sent to). Prints p50, p99 and the maximum, with how many
committed. An independent client: the sign-bytes are written from
docs/protocol.md, not taken from our code.

    bench/client_api_latency.py [--rate 200] [--seconds 20] [--build build]
"""
import argparse
import asyncio
import hashlib
import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request

import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def put_var(data):
    return struct.pack(">I", len(data)) + data


def funded_key(i):
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"synod-testnet/account/{i}".encode()).digest())
    return key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def transfer(chain, key, sender, nonce, to, amount):
    sign_bytes = (put_var(b"synod/tx/v1") + chain + sender + struct.pack(">Q", nonce) + b"\x01" + to +
                  struct.pack(">Q", amount))
    tx_hash = hashlib.sha256(sign_bytes).digest()
    sig = key.sign(put_var(b"synod/tx-sig/v1") + tx_hash)
    body = {"sender": sender.hex(), "nonce": nonce, "transfer": {"to": to.hex(), "amount": amount},
            "signature": sig.hex()}
    return json.dumps(body).encode(), tx_hash.hex()


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read())


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p * len(values))) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200, help="transfers per second, all nodes together")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    args = parser.parse_args()
    synod = os.path.join(args.build, "node", "synod")
    directory = tempfile.mkdtemp(prefix="synod-latency-")
    net = subprocess.Popen([synod, "testnet", "-n", "4", "-d", os.path.join(directory, "net")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        genesis = os.path.join(directory, "net", "genesis.toml")
        deadline = time.time() + 30
        while not os.path.exists(genesis) and time.time() < deadline:
            time.sleep(0.1)
        with open(genesis, "rb") as f:
            ports = [int(v["address"].rsplit(":", 1)[1]) + 1 for v in tomllib.load(f)["validators"]]
        while time.time() < deadline:
            try:
                if all(not get(p, "/v1/chain")["catching_up"] for p in ports):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        chain = bytes.fromhex(get(ports[0], "/v1/chain")["chain_id"])
        run(args, ports, chain)
    finally:
        net.send_signal(signal.SIGTERM)
        net.wait(timeout=60)


def run(args, ports, chain):
    sent = {}       # hash -> (node index, time sent)
    committed = {}  # hash -> time its commit event arrived from the node it was sent to
    lock = threading.Lock()
    stop = threading.Event()
    to = funded_key(63)[1]

    async def listen(i):
        async with websockets.connect(f"ws://127.0.0.1:{ports[i]}/v1/ws", max_size=None) as ws:
            await ws.send(json.dumps({"subscribe": "commits"}))
            while not stop.is_set():
                try:
                    event = json.loads(await asyncio.wait_for(ws.recv(), 1))
                except asyncio.TimeoutError:
                    continue
                now = time.perf_counter()
                if event.get("event") != "commit":
                    continue
                with lock:
                    for t in event["txs"]:
                        origin = sent.get(t["hash"])
                        if origin and origin[0] == i and t["hash"] not in committed:
                            committed[t["hash"]] = now

    async def listeners():
        await asyncio.gather(*(listen(i) for i in range(4)))
    listener = threading.Thread(target=lambda: asyncio.run(listeners()), daemon=True)
    listener.start()
    time.sleep(1)

    # One sender thread per node, each with its own accounts and a keep-alive connection.
    refused = []

    def sender(i):
        accounts = [funded_key(a) for a in range(i * 12, i * 12 + 12)]
        nonces = [get(ports[i], f"/v1/account/{public.hex()}")["nonce"] for _, public in accounts]
        connection = http.client.HTTPConnection("127.0.0.1", ports[i], timeout=10)
        interval = 4 / args.rate
        next_at = time.perf_counter()
        end = next_at + args.seconds
        n = 0
        while next_at < end:
            a = n % len(accounts)
            key, public = accounts[a]
            body, tx_hash = transfer(chain, key, public, nonces[a], to, 1)
            nonces[a] += 1
            n += 1
            time.sleep(max(0, next_at - time.perf_counter()))
            with lock:
                sent[tx_hash] = (i, time.perf_counter())
            connection.request("POST", "/v1/tx", body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            payload = answer.read()
            if answer.status != 202:
                refused.append(payload.decode())
            next_at += interval

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    deadline = time.time() + 15
    while time.time() < deadline:
        with lock:
            if len(committed) >= len(sent) - len(refused):
                break
        time.sleep(0.2)
    stop.set()
    listener.join(timeout=5)
    with lock:
        latencies = [(committed[h] - t) * 1000 for h, (_, t) in sent.items() if h in committed]
    print(f"client API latency, 4-node loopback testnet: {len(sent)} transfers over HTTP in {elapsed:.1f} s "
          f"({len(sent) / elapsed:.0f}/s), {len(latencies)} commit events, {len(refused)} refused")
    if latencies:
        print(f"submit -> commit event: p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms, "
              f"max {max(latencies):.0f} ms")
    if refused:
        print("first refusal:", refused[0])
    return 0 if latencies and not refused else 1


if __name__ == "__main__":
    sys.exit(main())
