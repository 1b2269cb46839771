"""Storage under faults a validator's machine meets (docs/storage.md): a full
disk, a data folder nobody may read, careless `backups` and `restore` use.
The rule for each: a clear error naming the cause, nothing changed, never a
signal or an uncaught exception, and the node starts again once the cause is
gone. The full-disk case mounts a small tmpfs, so it runs as root only (CI
does) and is skipped with that reason otherwise."""
import os
import shutil
import signal
import subprocess

import pytest

from test_node import SYNOD, free_peer_port, make_node_files, status, synod, wait


def run_server(cfg):
    return subprocess.Popen([SYNOD, "server", "-c", str(cfg / "private.toml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def stop(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        return server.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        server.kill()
        return server.communicate()[1]


def fill(folder):
    """Writes to a file until the filesystem is full; returns its path."""
    filler = folder / "filler"
    with open(filler, "ab") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.strip())
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def node_on(disk, tmp_path):
    """A one-validator chain's files with its data folder on `disk`: (peer port, config folder)."""
    port = free_peer_port()
    cfg = make_node_files(tmp_path, port)
    text = (cfg / "private.toml").read_text().replace(str(tmp_path / "data"), str(disk / "data"))
    (cfg / "private.toml").write_text(text)
    return port, cfg


def test_a_full_disk_is_a_clear_error_and_the_node_starts_again_once_space_is_freed(tmp_path, small_disk):
    port, cfg = node_on(small_disk, tmp_path)
    server = run_server(cfg)
    try:
        assert wait(lambda: status(port)["height"] >= 3, 30)
        filler = fill(small_disk)
        # The next commit cannot be made durable: the node stops, saying why.
        assert wait(lambda: server.poll() is not None, 30), "the server kept running on a full disk"
    finally:
        stderr = stop(server)
    assert server.returncode == 1, (server.returncode, stderr[-2000:])
    assert "No space left on device" in stderr, stderr[-2000:]
    # Without its lock file (a ledger copied in, or just restored), LMDB would
    # make one and write it through a memory map: on a full disk, a SIGBUS.
    for lock in (small_disk / "data").glob("*.mdb-lock"):
        lock.unlink()
    fill(small_disk)

    r = synod("backup", "-c", str(cfg / "private.toml"))
    assert r.returncode == 1 and "No space left on device" in r.stderr, (r.returncode, r.stderr)
    r = synod("server", "-c", str(cfg / "private.toml"), timeout=30)
    assert r.returncode == 1 and "No space left on device" in r.stderr, (r.returncode, r.stderr[-2000:])

    os.remove(filler)
    server = run_server(cfg)
    try:
        assert wait(lambda: status(port)["height"] >= 6, 30), "the node did not commit again once space was freed"
        r = synod("backup", "-c", str(cfg / "private.toml"))
    finally:
        stderr = stop(server)
    assert server.returncode == 0, stderr[-2000:]
    assert r.returncode == 0, r.stderr


def test_a_read_only_filesystem_is_a_clear_error_and_nothing_changes(tmp_path, small_disk):
    port, cfg = node_on(small_disk, tmp_path)
    server = run_server(cfg)
    try:
        assert wait(lambda: status(port)["height"] >= 3, 30)
    finally:
        stop(server)
    assert server.returncode == 0
    ledger = next((small_disk / "data").glob("*.mdb"))
    before = ledger.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for args in (["server"], ["backup"], ["reset-state"]):
            r = synod(*args, "-c", str(cfg / "private.toml"), timeout=30)
            assert r.returncode == 1 and "Read-only file system" in r.stderr, (args, r.returncode, r.stderr[-2000:])
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert ledger.read_bytes() == before
    server = run_server(cfg)
    try:
        assert wait(lambda: status(port)["height"] >= 6, 30)
    finally:
        stop(server)
    assert server.returncode == 0


def test_an_unreadable_data_folder_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        # root reads anything: a folder that is not a folder stands in.
        port = free_peer_port()
        cfg = make_node_files(tmp_path, port)
        shutil.rmtree(tmp_path / "data", ignore_errors=True)
        (tmp_path / "data").write_text("a file where the data folder should be")
    else:
        port = free_peer_port()
        cfg = make_node_files(tmp_path, port)
        (tmp_path / "data").mkdir(exist_ok=True)
        os.chmod(tmp_path / "data", 0)
    for args in (["server"], ["backup"], ["backups"], ["reset-state"]):
        r = synod(*args, "-c", str(cfg / "private.toml"), timeout=30)
        assert r.returncode == 1 and r.stderr.startswith("synod: "), (args, r.returncode, r.stderr)
        assert "terminate called" not in r.stderr and "data" in r.stderr, (args, r.stderr)


def test_backups_and_restore_say_what_they_find_and_do(tmp_path):
    port = free_peer_port()
    cfg = make_node_files(tmp_path, port)
    private = str(cfg / "private.toml")
    r = synod("backups", "-c", private)
    assert r.returncode == 1 and "no backup folder" in r.stderr, r.stderr
    server = run_server(cfg)
    try:
        assert wait(lambda: status(port)["height"] >= 3, 30)
        taken = synod("backup", "-c", private)
        assert taken.returncode == 0, taken.stderr
        backup = taken.stdout.split()[0]
        assert os.stat(backup).st_mode & 0o777 == 0o600
        height = status(port)["height"]
        assert wait(lambda: status(port)["height"] >= height + 3, 30)
    finally:
        assert not stop(server).count("Assertion")
    folder = os.path.dirname(backup)
    name = os.path.basename(backup)
    with open(os.path.join(folder, name[:17] + "20261314T000000.000Z.mdb"), "w") as f:
        f.write("junk named like a backup, with month 13")
    with open(os.path.join(folder, name[:17] + "20260101T000000.000Z.mdb"), "w") as f:
        f.write("junk named like a backup")
    r = synod("backups", "-c", private)  # the one taken here, and the one the server takes when it starts
    assert r.returncode == 0 and r.stdout.count("\n") == 2 and backup in r.stdout, r.stdout
    assert "20261314" not in r.stdout and "20260101" not in r.stdout, r.stdout

    ledger = next(p for p in (tmp_path / "data").iterdir() if p.suffix == ".mdb")
    before = ledger.read_bytes()
    r = synod("restore", backup, "-c", private, "--dry-run")
    assert r.returncode == 0 and "dry run: nothing changed" in r.stdout, r.stdout + r.stderr
    assert "blocks above the backup's height are dropped" in r.stdout and "safety record: kept" in r.stdout, r.stdout
    assert ledger.read_bytes() == before

    r = synod("restore", backup, "-c", private)
    assert r.returncode == 0 and "the replaced ledger is kept as" in r.stdout, r.stdout + r.stderr
    kept = r.stdout.split("the replaced ledger is kept as ")[1].split(";")[0]
    assert open(kept, "rb").read() == before
    assert os.stat(ledger).st_mode & 0o777 == 0o600
    assert not [p for p in (tmp_path / "data").iterdir() if p.name.endswith(".restore")]

    # A safety record that is not one is reported as unusable, not as kept.
    safety = next(p for p in (tmp_path / "data").iterdir() if p.suffix == ".safety")
    safety.write_bytes(b"")
    r = synod("restore", backup, "-c", private, "--dry-run")
    assert r.returncode == 0 and "safety record: unusable" in r.stdout, r.stdout + r.stderr


def test_bit_flips_and_truncations_of_a_backup_are_refused_or_change_nothing(tmp_path):
    """Hundreds of seeded single-bit flips across a whole backup of a ledger
    with transfers and stored values: `restore --dry-run` refuses each copy
    whose content changed, never crashes, and never accepts a changed one
    (content compared with LMDB's own mdb_dump, every table)."""
    import random
    directory = tmp_path / "net"
    net = subprocess.Popen([SYNOD, "testnet", "-n", "1", "-d", str(directory)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        assert wait(lambda: (directory / "genesis.toml").exists(), 30)
        node = directory / "node0"
        port = int(open(node / "public.toml").read().split("127.0.0.1:")[1].split("'")[0])
        assert wait(lambda: status(port)["height"] >= 2, 30)
        r = synod("load", "--genesis", str(directory / "genesis.toml"), "--rate", "200", "--seconds", "2",
                  "--accounts", "8", timeout=60)
        assert r.returncode == 0, r.stderr
        url = f"http://127.0.0.1:{port + 1}"
        for i in range(3):
            r = synod("tx", "--url", url, "--testnet-account", "50", "store", f"key{i}", f"value {i}", "--wait")
            assert r.returncode == 0, r.stderr
    finally:
        net.send_signal(signal.SIGTERM)
        net.wait(timeout=60)
    private = str(node / "private.toml")
    taken = synod("backup", "-c", private)
    assert taken.returncode == 0, taken.stderr
    backup = taken.stdout.split()[0]
    original = open(backup, "rb").read()

    def dump(path):
        r = subprocess.run(["mdb_dump", "-n", "-a", path], capture_output=True, timeout=60)
        return r.stdout if r.returncode == 0 else None
    clean = dump(backup)
    assert clean
    # SYNOD_BITFLIPS and SYNOD_BITFLIP_SEED widen the sweep by hand; make test runs 300.
    rng = random.Random(int(os.environ.get("SYNOD_BITFLIP_SEED", "20261203")))
    copy = tmp_path / "flipped.mdb"
    counts = {"refused": 0, "unchanged": 0, "changed": 0}
    for _ in range(int(os.environ.get("SYNOD_BITFLIPS", "300"))):
        at = rng.randrange(len(original) * 8)
        data = bytearray(original)
        data[at // 8] ^= 1 << (at % 8)
        copy.write_bytes(bytes(data))
        r = synod("restore", str(copy), "-c", private, "--dry-run", timeout=120)
        assert r.returncode in (0, 1), (at, r.returncode, r.stderr)
        if r.returncode == 1:
            assert r.stderr.startswith("synod: "), r.stderr
            counts["refused"] += 1
        elif dump(str(copy)) == clean:
            counts["unchanged"] += 1
        else:
            counts["changed"] += 1
    print(f"bit flips in a {len(original)}-byte backup: {counts}")
    assert counts["changed"] == 0, counts
    assert counts["refused"] >= 30, counts
    # Truncated at every page boundary: refused, never a crash.
    for end in range(0, len(original), 4096):
        copy.write_bytes(original[:end])
        r = synod("restore", str(copy), "-c", private, "--dry-run", timeout=120)
        assert r.returncode == 1 and r.stderr.startswith("synod: "), (end, r.returncode, r.stderr)
