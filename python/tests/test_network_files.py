"""Where Network.save writes, and what a path is (pdb_network_save / pdb_network_load).

- Save replaces a regular file atomically through a unique temporary file in the target's
  directory: symbolic links are followed (the link stays, its target is replaced), anything
  else that exists at the path (directory, FIFO) is refused, other files are left alone.
- Concurrent saves to one path never fail and a concurrent reader always loads one of the
  saved networks, complete.
- A path is bytes: non-UTF-8 names stay distinct; an embedded NUL is refused (ValueError),
  as it is for every string the wrapper passes to C.

Every test works inside its own temporary directory.
"""
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import pdeblocks as pdb
from pdeblocks import PDEBlocksError

PDB_ERR_IO = -7
ROOT = Path(__file__).resolve().parents[2]


def network(seed):
    """A small network whose parameters identify it (seed -> distinct parameters)."""
    K = pdb.Stencil([-1.0, 1.0], 0)
    net = pdb.Network([pdb.DiffusionBlock([K], [pdb.Diffusivity("perona_malik", 0.5)], 0.1)])
    p = net.parameters
    net.set_parameters(p + 1e-3 * (seed + 1) * np.arange(1, p.size + 1) / p.size)
    return net


def same_network(path, net):
    return np.array_equal(pdb.Network.load(path).parameters, net.parameters)


def listing(directory):
    return sorted(os.listdir(os.fsencode(directory)))


# ---- what is at the path --------------------------------------------------------------------

def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    target, link = tmp_path / "real.pdbnet", tmp_path / "link.pdbnet"
    network(0).save(target)
    link.symlink_to("real.pdbnet")                       # relative link
    net = network(1)
    net.save(link)
    assert link.is_symlink() and os.readlink(link) == "real.pdbnet"
    assert same_network(target, net)
    assert listing(tmp_path) == [b"link.pdbnet", b"real.pdbnet"]


def test_saving_through_a_dangling_symlink_creates_its_target(tmp_path):
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.pdbnet"
    link.symlink_to(tmp_path / "sub" / "new.pdbnet")     # absolute, target missing
    net = network(2)
    net.save(link)
    assert link.is_symlink()
    assert same_network(tmp_path / "sub" / "new.pdbnet", net)
    assert listing(tmp_path / "sub") == [b"new.pdbnet"]


def test_saving_through_a_symlink_chain_replaces_the_final_target(tmp_path):
    (tmp_path / "a").mkdir()
    final = tmp_path / "a" / "final.pdbnet"
    network(0).save(final)
    (tmp_path / "a" / "middle").symlink_to("final.pdbnet")      # relative to a/
    (tmp_path / "first").symlink_to("a/middle")
    net = network(3)
    net.save(tmp_path / "first")
    assert (tmp_path / "first").is_symlink() and (tmp_path / "a" / "middle").is_symlink()
    assert same_network(final, net)
    assert listing(tmp_path / "a") == [b"final.pdbnet", b"middle"]


def test_a_symlink_loop_is_a_clear_error(tmp_path):
    (tmp_path / "x").symlink_to("y")
    (tmp_path / "y").symlink_to("x")
    with pytest.raises(PDEBlocksError, match="levels of symbolic links") as e:
        network(0).save(tmp_path / "x")
    assert e.value.status == PDB_ERR_IO
    assert listing(tmp_path) == [b"x", b"y"]


def test_saving_onto_a_fifo_is_refused_and_leaves_it_a_fifo(tmp_path):
    fifo = tmp_path / "pipe.pdbnet"
    os.mkfifo(fifo)
    with pytest.raises(PDEBlocksError, match="is a FIFO, not a regular file") as e:
        network(0).save(fifo)
    assert e.value.status == PDB_ERR_IO
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert listing(tmp_path) == [b"pipe.pdbnet"]                 # no temporary file left


def test_saving_through_a_symlink_to_a_fifo_names_both(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link.pdbnet").symlink_to("pipe")
    with pytest.raises(PDEBlocksError, match=r"leads to '.*pipe'\): it exists and is a FIFO"):
        network(0).save(tmp_path / "link.pdbnet")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)


def test_loading_a_fifo_fails_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe.pdbnet"
    os.mkfifo(fifo)
    script = textwrap.dedent(f"""
        import pdeblocks as pdb
        try:
            pdb.Network.load({str(fifo)!r})
        except pdb.PDEBlocksError as e:
            print("refused:", e)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    try:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("Network.load blocked on a FIFO")
    assert "refused:" in run.stdout and "is a FIFO, not a regular file" in run.stdout, run.stdout + run.stderr


def test_saving_onto_a_directory_is_refused(tmp_path):
    d = tmp_path / "d.pdbnet"
    d.mkdir()
    (d / "inside").write_bytes(b"kept")
    with pytest.raises(PDEBlocksError, match="is a directory, not a regular file"):
        network(0).save(d)
    assert listing(tmp_path) == [b"d.pdbnet"] and (d / "inside").read_bytes() == b"kept"


def test_a_users_own_tmp_file_next_to_the_target_survives(tmp_path):
    mine = tmp_path / "x.pdbnet.tmp"
    mine.write_bytes(b"my own notes")
    net = network(4)
    net.save(tmp_path / "x.pdbnet")
    net.save(tmp_path / "x.pdbnet")                      # and over an existing file
    assert mine.read_bytes() == b"my own notes"
    assert same_network(tmp_path / "x.pdbnet", net)
    assert listing(tmp_path) == [b"x.pdbnet", b"x.pdbnet.tmp"]


def test_saving_keeps_the_permission_bits_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "m.pdbnet"
    network(0).save(path)
    os.chmod(path, 0o640)
    network(1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def save_in_read_only_directory(directory, path):
    """(status, message) of saving into `directory` made read-only, as an unprivileged user:
    root ignores directory permissions, so as root a forked child drops to `nobody` first."""
    os.chmod(directory, 0o555)
    try:
        if os.geteuid() != 0:
            try:
                network(0).save(path)
                return 0, ""
            except PDEBlocksError as e:
                return e.status, str(e)
        net = network(0)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:                                      # child: no Python cleanup, just report
            try:
                os.close(r)
                os.setgid(65534)
                os.setuid(65534)
                try:
                    net.save(path)
                    report = "0\n"
                except PDEBlocksError as e:
                    report = f"{e.status}\n{e}"
                os.write(w, report.encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            data = f.read().decode()
        os.waitpid(pid, 0)
        status, _, text = data.partition("\n")
        return int(status), text
    finally:
        os.chmod(directory, 0o755)


def test_a_read_only_directory_is_a_clear_error_and_leaves_no_temporary():
    directory = tempfile.mkdtemp(prefix="pdeblocks-ro-")   # /tmp: reachable by `nobody`
    try:
        os.chmod(directory, 0o755)
        path = os.path.join(directory, "net.pdbnet")
        status, text = save_in_read_only_directory(directory, path)
        assert status == PDB_ERR_IO, text
        assert "cannot open a new temporary file" in text and "Permission denied" in text and directory in text
        assert listing(directory) == []
    finally:
        os.chmod(directory, 0o755)
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)


# ---- concurrent saves ---------------------------------------------------------------------------

def test_concurrent_saves_from_threads_never_fail_and_readers_see_a_complete_network(tmp_path):
    path = tmp_path / "shared.pdbnet"
    nets = [network(k) for k in range(4)]
    nets[0].save(path)
    known = [n.parameters for n in nets]
    errors, loads = [], []
    stop = threading.Event()

    def writer(net):
        try:
            for _ in range(150):
                net.save(path)
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(repr(e))

    def reader():
        while not stop.is_set():
            try:
                p = pdb.Network.load(path).parameters
                loads.append(any(np.array_equal(p, q) for q in known))
            except Exception as e:  # noqa: BLE001
                errors.append("load: " + repr(e))

    threads = [threading.Thread(target=writer, args=(n,)) for n in nets]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert loads and all(loads)
    assert listing(tmp_path) == [b"shared.pdbnet"]


WRITER = textwrap.dedent("""
    import sys, numpy as np, pdeblocks as pdb
    path, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    K = pdb.Stencil([-1.0, 1.0], 0)
    net = pdb.Network([pdb.DiffusionBlock([K], [pdb.Diffusivity("perona_malik", 0.5)], 0.1)])
    p = net.parameters
    net.set_parameters(p + 1e-3 * (seed + 1) * np.arange(1, p.size + 1) / p.size)
    failures = 0
    for _ in range(count):
        try:
            net.save(path)
        except pdb.PDEBlocksError as e:
            failures += 1
            print(e, file=sys.stderr)
    print(failures)
""")


def test_concurrent_saves_from_processes_never_fail_and_readers_see_a_complete_network(tmp_path):
    path = tmp_path / "shared.pdbnet"
    nets = [network(k) for k in range(3)]
    nets[0].save(path)
    known = [n.parameters for n in nets]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(k), "200"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(3)]
    bad_loads, loads = [], 0
    try:
        while any(p.poll() is None for p in procs):
            try:
                params = pdb.Network.load(path).parameters
                loads += 1
                if not any(np.array_equal(params, q) for q in known):
                    bad_loads.append("parameters of no saved network")
            except PDEBlocksError as e:
                bad_loads.append(str(e))
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [o.strip() for o, _ in outs] == ["0"] * 3, [e for _, e in outs]
    assert bad_loads == []
    assert loads > 0
    assert listing(tmp_path) == [b"shared.pdbnet"]


# ---- what a path is ------------------------------------------------------------------------------

def test_non_utf8_file_names_stay_distinct(tmp_path):
    base = os.fsencode(tmp_path)
    a, b = base + b"/\xff.pdbnet", base + b"/\xfe.pdbnet"
    net_a, net_b = network(5), network(6)
    net_a.save(a)
    net_b.save(b)
    assert listing(tmp_path) == [b"\xfe.pdbnet", b"\xff.pdbnet"]
    assert same_network(a, net_a) and same_network(b, net_b)
    # the same names as str (surrogate escapes) and as os.PathLike
    assert same_network(os.fsdecode(a), net_a) and same_network(Path(os.fsdecode(b)), net_b)


def test_paths_may_be_str_bytes_or_pathlike(tmp_path):
    net = network(7)
    for path in (str(tmp_path / "s.pdbnet"), os.fsencode(tmp_path / "b.pdbnet"), tmp_path / "p.pdbnet"):
        net.save(path)
        assert same_network(path, net)


@pytest.mark.parametrize("kind", ["str", "bytes", "pathlike"])
def test_an_embedded_nul_in_a_path_is_refused_and_nothing_is_written(tmp_path, kind):
    target = tmp_path / "net.pdbnet"
    original = network(0)
    original.save(target)
    before = target.read_bytes()
    bad = str(target) + "\x00.backup"
    path = {"str": bad, "bytes": os.fsencode(bad), "pathlike": Path(bad)}[kind]
    with pytest.raises(ValueError, match="embedded null byte"):
        network(1).save(path)
    with pytest.raises(ValueError, match="embedded null byte"):
        pdb.Network.load(path)
    assert target.read_bytes() == before
    assert listing(tmp_path) == [b"net.pdbnet"]


def test_an_embedded_nul_in_a_diffusivity_name_is_refused():
    with pytest.raises(ValueError, match="embedded null byte"):
        pdb.Diffusivity("perona_malik\x00x")
    assert pdb.Diffusivity("perona_malik").name == "perona_malik"
