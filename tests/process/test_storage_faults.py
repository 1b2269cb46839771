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
import time

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


def ledger_with_history(tmp_path):
    """A stopped one-validator testnet whose ledger holds transfers and stored
    values: (node folder, its private.toml, its peer port)."""
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
    return node, str(node / "private.toml"), port


def ledger_files(node):
    """The node's ledger and safety record."""
    data = node / "data"
    return next(data.glob("*.mdb")), next(data.glob("*.safety"))


def dump(path):
    """Every table of a ledger as LMDB's own mdb_dump prints it; None if it cannot."""
    r = subprocess.run(["mdb_dump", "-n", "-a", str(path)], capture_output=True, timeout=60)
    return r.stdout if r.returncode == 0 else None


def bit_flips(original, count_variable, count, seed):
    """Seeded single-bit flips of `original`: (bit position, flipped bytes).
    The variable named `count_variable` and SYNOD_BITFLIP_SEED widen a sweep by hand."""
    import random
    rng = random.Random(int(os.environ.get("SYNOD_BITFLIP_SEED", str(seed))))
    for _ in range(int(os.environ.get(count_variable, str(count)))):
        at = rng.randrange(len(original) * 8)
        data = bytearray(original)
        data[at // 8] ^= 1 << (at % 8)
        yield at, bytes(data)


def test_bit_flips_and_truncations_of_a_backup_are_refused_or_change_nothing(tmp_path):
    """Hundreds of seeded single-bit flips across a whole backup of a ledger
    with transfers and stored values: `restore --dry-run` refuses each copy
    whose content changed, never crashes, and never accepts a changed one
    (content compared with LMDB's own mdb_dump, every table)."""
    node, private, _ = ledger_with_history(tmp_path)
    taken = synod("backup", "-c", private)
    assert taken.returncode == 0, taken.stderr
    backup = taken.stdout.split()[0]
    original = open(backup, "rb").read()
    clean = dump(backup)
    assert clean
    copy = tmp_path / "flipped.mdb"
    counts = {"refused": 0, "unchanged": 0, "changed": 0}
    for at, data in bit_flips(original, "SYNOD_BITFLIPS", 300, 20261203):
        copy.write_bytes(data)
        r = synod("restore", str(copy), "-c", private, "--dry-run", timeout=120)
        assert r.returncode in (0, 1), (at, r.returncode, r.stderr)
        if r.returncode == 1:
            assert r.stderr.startswith("synod: "), r.stderr
            counts["refused"] += 1
        elif dump(copy) == clean:
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


def started(server, port, timeout=60):
    """True once the server answers /status, False if it exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            return False
        try:
            status(port)
            return True
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server neither answered nor exited")


def test_a_damaged_ledger_is_refused_when_the_server_starts(tmp_path):
    """The server checks its own ledger before trusting any of it, as a restore
    checks a backup: a balance edited by hand with LMDB's own tools, and
    seeded bit flips, are refused with corrupt_ledger naming the cause, or
    (a flip in bytes LMDB never reads) change nothing. The safety record is
    never touched by a refusal."""
    node, private, port = ledger_with_history(tmp_path)
    ledger, safety = ledger_files(node)
    original = ledger.read_bytes()
    clean = dump(ledger)
    record = safety.read_bytes()

    text = subprocess.run(["mdb_dump", "-n", "-s", "accounts", str(ledger)], capture_output=True, text=True,
                          check=True).stdout
    header, _, body = text.partition("HEADER=END\n")
    key, value = (line.strip() for line in body.splitlines()[:2])
    balance_digit = "0" if value[15] != "0" else "1"  # the balance is the first 8 bytes, big-endian
    edited = f"{header}HEADER=END\n {key}\n {value[:15]}{balance_digit}{value[16:]}\nDATA=END\n"
    subprocess.run(["mdb_load", "-n", "-s", "accounts", str(ledger)], input=edited, text=True, check=True)
    changed = ledger.read_bytes()
    r = synod("server", "-c", private, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "corrupt_ledger" in r.stderr and f"accounts: the entry of {key}" in r.stderr, r.stderr[-2000:]
    assert ledger.read_bytes() == changed and safety.read_bytes() == record

    counts = {"refused": 0, "unchanged": 0, "changed": 0}
    for at, data in bit_flips(original, "SYNOD_START_BITFLIPS", 30, 20261204):
        ledger.write_bytes(data)
        content = dump(ledger)
        record = safety.read_bytes()
        server = run_server(node)
        try:
            running = started(server, port)
        finally:
            stderr = stop(server)
        if running:
            assert server.returncode == 0, (at, stderr[-2000:])
            counts["unchanged" if content == clean else "changed"] += 1
        else:
            assert server.returncode == 1 and "cannot open the store" in stderr, (at, server.returncode, stderr[-2000:])
            assert safety.read_bytes() == record, at
            counts["refused"] += 1
    print(f"bit flips in a {len(original)}-byte ledger at server start: {counts}")
    assert counts["changed"] == 0, counts
    assert counts["refused"] >= 3, counts


def test_a_backup_killed_at_any_moment_changes_nothing_and_its_leftover_goes(tmp_path):
    """`synod backup` SIGKILLed while it copies: the ledger is unchanged, the
    unfinished copy is never listed, and the next backup removes it."""
    node, private, _ = ledger_with_history(tmp_path)
    ledger, safety = ledger_files(node)
    before = ledger.read_bytes(), safety.read_bytes()
    folder = tmp_path / "backups"
    folder.mkdir()
    left = 0
    for _ in range(40):
        copy = subprocess.Popen([SYNOD, "backup", "-c", private, "--folder", str(folder)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        before_spawn = set(os.listdir(folder))
        try:
            # Killed as soon as its copy exists, or later when it is quicker than the poll.
            while copy.poll() is None and not any(n.endswith(".partial") for n in set(os.listdir(folder)) - before_spawn):
                pass
            copy.kill()
        finally:
            copy.wait(timeout=30)
        left = sum(1 for n in os.listdir(folder) if n.endswith(".partial"))
        if left >= 3:
            break
    assert left >= 1, "no backup was ever killed while it copied"
    assert (ledger.read_bytes(), safety.read_bytes()) == before
    listed = synod("backups", "-c", private, "--folder", str(folder))
    assert listed.returncode == 0 and ".partial" not in listed.stdout, listed.stdout + listed.stderr
    for line in listed.stdout.splitlines():
        if line.startswith("no backups"):
            continue
        r = synod("restore", line.split()[-1], "-c", private, "--dry-run", timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    # A leftover nobody wrote for a minute goes with the next backup; a fresh
    # one may be a live copy between its steps, and stays.
    partials = sorted(folder / n for n in os.listdir(folder) if n.endswith(".partial"))
    for p in partials[1:]:
        os.utime(p, (time.time() - 120, time.time() - 120))
    r = synod("backup", "-c", private, "--folder", str(folder))
    assert r.returncode == 0, r.stderr
    assert [folder / n for n in os.listdir(folder) if n.endswith(".partial")] == partials[:1], os.listdir(folder)


def test_a_restore_killed_at_any_moment_leaves_a_whole_ledger_and_the_node_starts(tmp_path):
    """`synod restore` SIGKILLed at moments spread over its run (while its
    child checks the backup, while it copies, after): the ledger's name holds
    the old ledger or the backup, whole; the safety record is untouched; no
    checking child outlives it; and the node starts, removing the leftover copy."""
    node, private, port = ledger_with_history(tmp_path)
    taken = synod("backup", "-c", private)
    assert taken.returncode == 0, taken.stderr
    backup = taken.stdout.split()[0]
    server = run_server(node)  # more history, so that the ledger and the backup differ
    try:
        assert started(server, port)
        height = status(port)["height"]
        assert wait(lambda: status(port)["height"] >= height + 3, 30)
    finally:
        stop(server)
    ledger, safety = ledger_files(node)
    whole = {ledger.read_bytes(), open(backup, "rb").read()}
    record = safety.read_bytes()
    begun = time.time()
    r = synod("restore", backup, "-c", private, "--dry-run", timeout=120)
    took = time.time() - begun
    assert r.returncode == 0, r.stderr
    outcomes = {"old": 0, "new": 0, "already the backup": 0, "leftover copy": 0}
    backup_bytes = open(backup, "rb").read()
    for i in range(16):
        current = ledger.read_bytes()
        restore = subprocess.Popen([SYNOD, "restore", backup, "-c", private], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            if i % 2:
                time.sleep(took * 2.5 * i / 16)  # the whole run is two checks, a copy and renames
            else:
                leftover = ledger.parent / (ledger.name + ".restore")
                if leftover.exists():
                    leftover.unlink()  # so that the poll waits for this restore's copy
                while restore.poll() is None and not leftover.exists():
                    pass
            restore.kill()
        finally:
            restore.wait(timeout=30)
        now = ledger.read_bytes()
        assert now in whole and safety.read_bytes() == record
        outcomes["already the backup" if current == backup_bytes else "new" if now == backup_bytes else "old"] += 1
        outcomes["leftover copy"] += (ledger.parent / (ledger.name + ".restore")).exists()
    # Caught while its child checks the backup (the child stopped, so that it
    # cannot finish on its own): the child dies with it and frees the lock.
    for _ in range(50):
        restore = subprocess.Popen([SYNOD, "restore", backup, "-c", private], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        child = None
        try:
            while restore.poll() is None and not child:
                try:
                    pids = open(f"/proc/{restore.pid}/task/{restore.pid}/children").read().split()
                    child = [p for p in pids if reading(p, backup)]
                except OSError:
                    break
            if child:
                os.kill(int(child[0]), signal.SIGSTOP)
            restore.kill()
        finally:
            restore.wait(timeout=30)
        if child:
            break
    assert child, "never caught a restore while its child checked the backup"
    try:
        assert wait(lambda: not os.path.exists(f"/proc/{child[0]}/cmdline") or
                    not open(f"/proc/{child[0]}/cmdline", "rb").read(), 10), "the checking child outlived its restore"
    finally:
        try:
            os.kill(int(child[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    r = synod("restore", backup, "-c", private, "--dry-run", timeout=120)
    assert r.returncode == 0, r.stderr
    print(f"restores killed: {outcomes}")
    assert outcomes["old"] >= 1, outcomes
    # It starts (its start checks every byte) on whichever ledger it holds. A
    # lone validator restored below blocks it committed waits for peers that
    # could send them, so it is not asked to commit here.
    server = run_server(node)
    try:
        assert started(server, port), "the node did not start after a killed restore"
        assert status(port)["height"] >= 1
    finally:
        assert stop(server).count("Assertion") == 0
    assert not (ledger.parent / (ledger.name + ".restore")).exists()


def reading(pid, path):
    """Whether process `pid` has `path` open."""
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == path for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_a_damaged_list_of_free_pages_is_refused_when_the_server_starts(tmp_path):
    """LMDB's free-page list (its table 0) is rewritten by every write: an
    entry naming a page outside the file would hand it to the next commit.
    The start check reads the list and refuses it, changing nothing."""
    import struct
    node, private, port = ledger_with_history(tmp_path)
    ledger, safety = ledger_files(node)
    data = bytearray(ledger.read_bytes())
    page = 4096
    # The newer of the two meta pages (LMDB 0.9, 64-bit): its transaction id
    # and the root page of the free list, a single leaf on a ledger this small.
    metas = []
    for number in (0, 1):
        at = number * page + 16 + 24  # page header, then magic, version, address, map size
        root = struct.unpack_from("<Q", data, at + 40)[0]  # the free table's md_root
        last, txn = struct.unpack_from("<QQ", data, at + 96)
        metas.append((txn, root, last))
    _, root, last = max(metas)
    leaf = root * page
    lower = struct.unpack_from("<H", data, leaf + 12)[0]
    assert lower > 16, "the ledger has no free pages to damage"
    node_at = leaf + struct.unpack_from("<H", data, leaf + 16)[0]
    key_bytes = struct.unpack_from("<H", data, node_at + 6)[0]
    ids = node_at + 8 + key_bytes  # the entry's count, then its page numbers
    assert struct.unpack_from("<Q", data, ids)[0] >= 1
    struct.pack_into("<Q", data, ids + 8, last + 1000)
    ledger.write_bytes(bytes(data))
    record = safety.read_bytes()
    r = synod("server", "-c", private, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "corrupt_ledger" in r.stderr and f"free pages: page {last + 1000} is not one of the file's" in r.stderr, \
        r.stderr[-2000:]
    assert ledger.read_bytes() == bytes(data) and safety.read_bytes() == record
