"""course_lib.data (download, idx, datasets): the download path against a real HTTP server on 127.0.0.1, the
mirror path against a temporary mirror directory, the IDX parser on small files built
here, and (when the shared mirror is there) the real MNIST and tiny-shakespeare.

Test files are put in the registry with ``monkeypatch.setitem(download.FILES, ...)``,
the documented way to point ``fetch`` elsewhere; the production entries never change.
"""

import gzip
import hashlib
import http.server
import os
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.data import datasets, download, idx
from course_lib.data.download import DataFile, DataFileError, DownloadError

REPO = Path(__file__).resolve().parent.parent
# Read before the autouse fixture below clears the variable for every test.
REAL_MIRROR = os.environ.get(download.MIRROR_ENV) or str(REPO.parent / "shared" / "data")

TOY = "toy/data.bin"
TOY_BYTES = np.random.default_rng(0).integers(0, 256, size=50_000, dtype=np.uint8).tobytes()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No test here may see a mirror or data dir set by the calling environment."""
    monkeypatch.delenv(download.MIRROR_ENV, raising=False)
    monkeypatch.delenv(download.DATA_DIR_ENV, raising=False)


# ----------------------------------------------------------------------------------
# A small HTTP server on 127.0.0.1
# ----------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes[path]``: ``(mode, body)``.

    Modes: "ok" sends the body; "cut" announces the full length but sends half and
    closes the connection; "slow" sends half, calls ``server.midway()``, then the rest.
    """

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        mode, body = self.server.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        half = len(body) // 2
        if mode == "ok":
            self.wfile.write(body)
        elif mode == "cut":
            self.wfile.write(body[:half])
            self.close_connection = True
        elif mode == "slow":
            self.wfile.write(body[:half])
            self.wfile.flush()
            self.server.midway()
            self.wfile.write(body[half:])

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server():
    """An HTTP server on a free port of 127.0.0.1, in a thread; shut down after the test."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes = {}
    httpd.requests = []
    httpd.midway = lambda: None
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def toy(server, monkeypatch):
    """Register TOY with its canonical URL on the test server; serve good and bad copies."""
    corrupt = bytearray(TOY_BYTES)
    corrupt[1000] ^= 0xFF  # same length, one byte flipped
    server.routes.update(
        {
            f"/good/{TOY}": ("ok", TOY_BYTES),
            f"/corrupt/{TOY}": ("ok", bytes(corrupt)),
            f"/truncated/{TOY}": ("ok", TOY_BYTES[:20_000]),  # honestly short
            f"/cut/{TOY}": ("cut", TOY_BYTES),  # connection dies midway
            f"/slow/{TOY}": ("slow", TOY_BYTES),
        }
    )
    entry = DataFile(f"{server.url}/good/{TOY}", sha256(TOY_BYTES), len(TOY_BYTES))
    monkeypatch.setitem(download.FILES, TOY, entry)
    return server


def files_under(directory):
    return sorted(p.relative_to(directory).as_posix() for p in Path(directory).rglob("*") if p.is_file())


# ----------------------------------------------------------------------------------
# Downloads
# ----------------------------------------------------------------------------------


def test_fetch_downloads_verifies_and_keeps_the_file(toy, tmp_path):
    path = download.fetch(TOY, data_dir=tmp_path, progressbar=True)
    assert path == tmp_path / TOY
    assert path.read_bytes() == TOY_BYTES
    assert files_under(tmp_path) == [TOY]  # no temporary file left behind
    assert toy.requests == [f"/good/{TOY}"]

    # The second call finds the file (and checks it) without the network.
    assert download.fetch(TOY, data_dir=tmp_path) == path
    assert len(toy.requests) == 1


def test_download_goes_to_a_temporary_file_then_is_renamed(toy, tmp_path):
    seen = {}

    def midway():
        # Half the bytes are sent: wait until the client has written some of them.
        folder = tmp_path / "toy"
        for _ in range(200):
            partial = [p for p in folder.glob("*") if p.stat().st_size > 0] if folder.exists() else []
            if partial:
                break
            time.sleep(0.01)
        seen["files"] = files_under(tmp_path)
        seen["partial_sizes"] = [p.stat().st_size for p in partial]

    toy.midway = midway
    path = download.fetch(TOY, data_dir=tmp_path, base_url=f"{toy.url}/slow", progressbar=False)
    # While bytes were in flight, they went to another name in the same folder, and
    # the real name did not exist.
    assert TOY not in seen["files"]
    assert len(seen["files"]) == 1 and seen["files"][0].startswith("toy/")
    assert len(seen["partial_sizes"]) == 1 and 0 < seen["partial_sizes"][0] < len(TOY_BYTES)
    assert path.read_bytes() == TOY_BYTES
    assert files_under(tmp_path) == [TOY]


def test_corrupt_download_is_refused_and_nothing_is_saved(toy, tmp_path):
    with pytest.raises(DataFileError) as err:
        download.fetch(TOY, data_dir=tmp_path, base_url=f"{toy.url}/corrupt", progressbar=False)
    msg = str(err.value)
    assert TOY in msg and "checksum" in msg
    assert "download it again" in msg
    assert files_under(tmp_path) == []


def test_truncated_download_is_reported_as_truncated(toy, tmp_path):
    with pytest.raises(DataFileError) as err:
        download.fetch(TOY, data_dir=tmp_path, base_url=f"{toy.url}/truncated", progressbar=False)
    msg = str(err.value)
    assert TOY in msg and "truncated" in msg and "20,000 bytes" in msg and "50,000" in msg
    assert "download it again" in msg
    assert files_under(tmp_path) == []


def test_truncated_download_without_a_recorded_size_fails_the_checksum(toy, tmp_path, monkeypatch):
    monkeypatch.setitem(download.FILES, TOY, DataFile("unused", sha256(TOY_BYTES)))
    with pytest.raises(DataFileError, match="checksum"):
        download.fetch(TOY, data_dir=tmp_path, base_url=f"{toy.url}/truncated", progressbar=False)
    assert files_under(tmp_path) == []


def test_connection_cut_midway_leaves_no_file(toy, tmp_path):
    with pytest.raises(DownloadError) as err:
        download.fetch(TOY, data_dir=tmp_path, base_url=f"{toy.url}/cut", progressbar=False)
    msg = str(err.value)
    assert TOY in msg and "Nothing was saved" in msg and download.MIRROR_ENV in msg
    assert files_under(tmp_path) == []


def test_http_error_names_the_url(toy, tmp_path):
    with pytest.raises(DownloadError) as err:
        download.fetch(TOY, data_dir=tmp_path, base_url=f"{toy.url}/missing", progressbar=False)
    assert f"{toy.url}/missing/{TOY}" in str(err.value) and "404" in str(err.value)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    "content, problem",
    [
        (TOY_BYTES[::-1], "SHA256 checksum"),  # same size, other bytes
        (TOY_BYTES[:100], "truncated"),
        (TOY_BYTES + b"!", "extra bytes"),
    ],
    ids=["corrupt", "truncated", "too-long"],
)
def test_damaged_local_file_is_reported_not_replaced(toy, tmp_path, content, problem):
    target = tmp_path / TOY
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    with pytest.raises(DataFileError) as err:
        download.fetch(TOY, data_dir=tmp_path)
    msg = str(err.value)
    assert str(target) in msg and problem in msg and "Delete it" in msg and "re-download" in msg
    assert target.read_bytes() == content  # the user's file is left alone
    assert toy.requests == []


def test_unknown_file_name():
    with pytest.raises(ValueError, match="unknown dataset file 'mnist/nope'"):
        download.fetch("mnist/nope")


def test_mirror_and_base_url_together_are_refused(toy, tmp_path):
    with pytest.raises(ValueError, match="not both"):
        download.fetch(TOY, data_dir=tmp_path, mirror=tmp_path, base_url=toy.url)


# ----------------------------------------------------------------------------------
# The mirror directory
# ----------------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A temporary mirror directory holding TOY; registry URL unreachable on purpose."""
    root = tmp_path / "mirror"
    (root / "toy").mkdir(parents=True)
    (root / TOY).write_bytes(TOY_BYTES)
    entry = DataFile("http://127.0.0.1:9/unreachable", sha256(TOY_BYTES), len(TOY_BYTES))
    monkeypatch.setitem(download.FILES, TOY, entry)
    return root


def test_mirror_copies_and_verifies(mirror, tmp_path):
    data = tmp_path / "data"
    path = download.fetch(TOY, data_dir=data, mirror=mirror)
    assert path == data / TOY and path.read_bytes() == TOY_BYTES
    assert files_under(data) == [TOY]


def test_environment_variables_name_mirror_and_data_dir(mirror, tmp_path, monkeypatch):
    data = tmp_path / "from-env"
    monkeypatch.setenv(download.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(download.DATA_DIR_ENV, str(data))
    assert download.fetch(TOY) == data / TOY
    assert (data / TOY).read_bytes() == TOY_BYTES


def test_explicit_base_url_beats_the_environment_mirror(toy, tmp_path, monkeypatch):
    monkeypatch.setenv(download.MIRROR_ENV, str(tmp_path / "empty-mirror"))
    path = download.fetch(TOY, data_dir=tmp_path / "data", base_url=f"{toy.url}/good", progressbar=False)
    assert path.read_bytes() == TOY_BYTES


def test_missing_mirror_file_names_the_path(mirror, tmp_path):
    (mirror / TOY).unlink()
    data = tmp_path / "data"
    with pytest.raises(FileNotFoundError) as err:
        download.fetch(TOY, data_dir=data, mirror=mirror)
    assert str(mirror / TOY) in str(err.value) and download.MIRROR_ENV in str(err.value)
    assert files_under(data) == []


def test_corrupt_mirror_file_is_refused(mirror, tmp_path):
    (mirror / TOY).write_bytes(TOY_BYTES[::-1])
    data = tmp_path / "data"
    with pytest.raises(DataFileError) as err:
        download.fetch(TOY, data_dir=data, mirror=mirror)
    assert str(mirror / TOY) in str(err.value) and "checksum" in str(err.value)
    assert files_under(data) == []


def test_default_data_dir(monkeypatch, tmp_path):
    assert download.resolve_data_dir(tmp_path) == tmp_path
    monkeypatch.setenv(download.DATA_DIR_ENV, str(tmp_path / "env"))
    assert download.resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv(download.DATA_DIR_ENV)
    if (REPO / "pyproject.toml").is_file():  # running from the checkout
        assert download.resolve_data_dir() == REPO / "data"


def test_production_registry_is_canonical():
    shakespeare = download.FILES["tinyshakespeare/input.txt"]
    assert shakespeare.url == (
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
    )
    assert shakespeare.known_hash.startswith("sha256:") and shakespeare.size == 1_115_394
    mnist = {name: f for name, f in download.FILES.items() if name.startswith("mnist/")}
    assert len(mnist) == 4
    for name, f in mnist.items():
        assert f.url == "https://ossci-datasets.s3.amazonaws.com/" + name
        assert f.known_hash.startswith("md5:")


# ----------------------------------------------------------------------------------
# The IDX parser, on files built here
# ----------------------------------------------------------------------------------

_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx_bytes(array):
    """The IDX encoding of ``array``: magic number, big-endian dims, big-endian data."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    header = bytes([0, 0, _CODES[array.dtype.str[1:]], array.ndim])
    return header + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(dtype).tobytes()


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_idx_round_trip_every_dtype(dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    out = idx.parse_idx(idx_bytes(a))
    assert out.shape == a.shape and out.dtype == a.dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, a)
    out[0, 0, 0] = 1  # writable, unlike np.frombuffer on bytes


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_read_idx_raw_or_gzip(tmp_path, compress):
    a = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    data = idx_bytes(a)
    path = tmp_path / "x-idx3-ubyte"  # the name says nothing: the content decides
    path.write_bytes(gzip.compress(data) if compress else data)
    np.testing.assert_array_equal(idx.read_idx(path), a)


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"\x00\x00", "too short for the 4-byte magic number"),
        (b"\x1f\x00" + GOOD[2:], "magic number starts with 0x1f 0x00"),
        (GOOD[:2] + b"\x07" + GOOD[3:], "unknown dtype code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (GOOD[:6], "header truncated"),
        (GOOD[:-1], "truncated"),
        (GOOD + b"\x00", "extra bytes at the end"),
        (b"\x00\x00\x08\x03" + GOOD[4:], "truncated"),  # 3 dims claimed, 2 given
    ],
    ids=["short", "magic", "dtype", "ndim0", "header", "payload", "trailing", "wrong-dims"],
)
def test_bad_idx_files(tmp_path, data, problem):
    path = tmp_path / "bad-idx-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataFileError) as err:
        idx.read_idx(path)
    msg = str(err.value)
    assert str(path) in msg and problem in msg and "not a valid IDX file" in msg
    assert "delete it" in msg and "re-download" in msg


def test_idx_size_error_gives_shape_and_sizes():
    with pytest.raises(DataFileError, match=r"shape \(3, 4\) of uint8 \(12 bytes of data\), the file has 11"):
        idx.parse_idx(GOOD[:-1], source="labels.idx")


def test_truncated_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(GOOD * 100)[:-20])
    with pytest.raises(DataFileError, match="damaged gzip data") as err:
        idx.read_idx(path)
    assert str(path) in str(err.value)


# ----------------------------------------------------------------------------------
# load_mnist / load_tinyshakespeare on small files, through the real fetch path
# ----------------------------------------------------------------------------------


def tiny_mnist(n=5, image_shape=(28, 28), labels=None):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(n, *image_shape), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10 if labels is None else labels
    return images, labels


def serve_mnist(server, monkeypatch, images, labels, split="test"):
    """Serve tiny MNIST files under the real names; register their hashes."""
    for name, array in zip(datasets.MNIST_FILES[split], (images, labels)):
        body = gzip.compress(idx_bytes(array))
        server.routes[f"/{name}"] = ("ok", body)
        monkeypatch.setitem(download.FILES, name, DataFile("unused", sha256(body), len(body)))


def test_load_mnist_over_http(server, monkeypatch, tmp_path):
    images, labels = tiny_mnist()
    serve_mnist(server, monkeypatch, images, labels)
    x, y = datasets.load_mnist("test", data_dir=tmp_path, base_url=server.url, progressbar=False)
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28)
    assert y.dtype == np.int64 and y.shape == (5,)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    f = datasets.scale_pixels(x)
    assert f.dtype == np.float32 and f.shape == x.shape and 0 <= f.min() and f.max() <= 1
    assert datasets.scale_pixels(np.array([0, 255], dtype=np.uint8)).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "images, labels, which, problem",
    [
        (*tiny_mnist(image_shape=(28, 27)), "images", "expected uint8 images (n, 28, 28)"),
        (tiny_mnist()[0], np.zeros((5, 2), np.uint8), "labels", "expected uint8 labels (n,)"),
        (tiny_mnist()[0], np.zeros(4, np.uint8), "labels", "4 labels for 5 images"),
        (tiny_mnist()[0], np.full(5, 10, np.uint8), "labels", "label 10 is not a digit"),
    ],
    ids=["image-dims", "label-dims", "count", "label-range"],
)
def test_load_mnist_wrong_format(server, monkeypatch, tmp_path, images, labels, which, problem):
    serve_mnist(server, monkeypatch, images, labels)
    with pytest.raises(DataFileError) as err:
        datasets.load_mnist("test", data_dir=tmp_path, base_url=server.url, progressbar=False)
    name = datasets.MNIST_FILES["test"][0 if which == "images" else 1]
    assert str(tmp_path / name) in str(err.value) and problem in str(err.value)
    assert "delete it" in str(err.value)


def test_load_mnist_bad_split():
    with pytest.raises(ValueError, match="split must be one of"):
        datasets.load_mnist("validation")


def test_load_tinyshakespeare_from_a_mirror(tmp_path, monkeypatch):
    text = "First Citizen:\r\nSpeak, speak.\n"  # \r\n must survive: bytes are decoded as is
    body = text.encode("utf-8")
    mirror = tmp_path / "mirror"
    (mirror / "tinyshakespeare").mkdir(parents=True)
    (mirror / "tinyshakespeare" / "input.txt").write_bytes(body)
    monkeypatch.setitem(
        download.FILES, "tinyshakespeare/input.txt", DataFile("unused", sha256(body), len(body))
    )
    assert datasets.load_tinyshakespeare(data_dir=tmp_path / "data", mirror=mirror) == text


# ----------------------------------------------------------------------------------
# The real datasets, from the shared mirror
# ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_mirror():
    if not Path(REAL_MIRROR, "mnist").is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the dataset mirror {REAL_MIRROR} is missing")
        pytest.skip(f"no dataset mirror at {REAL_MIRROR} (set {download.MIRROR_ENV})")
    return REAL_MIRROR


def test_real_mnist_and_tinyshakespeare_from_the_mirror(real_mirror, tmp_path):
    images, labels = datasets.load_mnist("test", data_dir=tmp_path, mirror=real_mirror)
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and set(labels.tolist()) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    text = datasets.load_tinyshakespeare(data_dir=tmp_path, mirror=real_mirror)
    assert len(text) == 1_115_394
    assert text.startswith("First Citizen:")
