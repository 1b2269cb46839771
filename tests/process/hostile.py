"""A hostile peer for the real-process tests, written as an independent
client would: Python's ssl module for TLS 1.3 with an Ed25519 certificate
made by the openssl command, the Hello and frames of docs/transport.md by
hand, and protobuf messages encoded by hand from core/proto/synod.proto."""
import os
import socket
import ssl
import struct
import subprocess

HELLO_DOMAIN = b"synod/hello/v1"
PKCS8_ED25519_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
KIND = {"hello": 1, "refusal": 2, "message": 3, "client_request": 4, "client_response": 5, "goodbye": 6}


def identity(directory, name, seed=None):
    """A certificate and key: a fresh key, or the Ed25519 key of a 32-byte seed. Returns (cert, key, public)."""
    key = os.path.join(directory, name + ".key")
    cert = os.path.join(directory, name + ".crt")
    if seed is None:
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
    else:
        der = os.path.join(directory, name + ".der")
        with open(der, "wb") as f:
            f.write(PKCS8_ED25519_PREFIX + seed)
        subprocess.run(["openssl", "pkey", "-inform", "DER", "-in", der, "-out", key], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-key", key, "-out", cert, "-days", "2", "-subj", "/CN=hostile"],
                   check=True, capture_output=True)
    public = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                            capture_output=True).stdout[-32:]
    return cert, key, public


def frame(kind, payload=b""):
    return struct.pack(">IB", len(payload) + 1, KIND[kind]) + payload


def hello(chain, public, version=1):
    return frame("hello", struct.pack(">I", len(HELLO_DOMAIN)) + HELLO_DOMAIN + struct.pack(">I", version) + chain + public)


class Peer:
    """One TLS connection to a node's peer port."""

    def __init__(self, port, cert=None, key=None, timeout=5):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the node's key is not what these tests are about
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if cert:
            ctx.load_cert_chain(cert, key)
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw)

    def send(self, data):
        self.sock.sendall(data)

    def read_frame(self):
        """(kind, payload), or None once the node closed the connection."""
        try:
            header = self._read(4)
            if header is None:
                return None
            body = self._read(struct.unpack(">I", header)[0])
            if body is None:
                return None
            return body[0], body[1:]
        except (ssl.SSLError, ConnectionError, OSError):
            return None

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                return None
            out += chunk
        return out

    def handshake(self, chain, public, version=1):
        """Sends our Hello, returns the node's first frame."""
        self.send(hello(chain, public, version))
        return self.read_frame()

    def closed_with(self, timeout=15):
        """Reads until the node closes; returns the refusal reason it gave, if any."""
        self.sock.settimeout(timeout)
        reason = None
        while True:
            f = self.read_frame()
            if f is None:
                return reason
            if f[0] == KIND["refusal"]:
                reason = f[1].decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- protobuf by hand -------------------------------------------------------

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def vote_message(block, round_, height, voter, sig):
    vote = field_bytes(1, block) + field_varint(2, round_) + field_varint(3, height) + field_varint(4, voter) + \
        field_bytes(5, sig)
    return field_bytes(2, vote)  # Message.vote


def timeout_message(round_, sender, sig):
    high_qc = field_bytes(1, b"\0" * 32)  # a round-0 QC without votes
    timeout = field_varint(1, round_) + field_bytes(2, high_qc) + field_varint(3, sender) + field_bytes(4, sig)
    return field_bytes(3, timeout)  # Message.timeout
