"""The course's data files: where each comes from, how it is checked, where it lands.

Two datasets, five files:

- MNIST: the four canonical IDX files (handwritten digits, 28x28 grey images).
- tiny-shakespeare: Karpathy's char-rnn ``input.txt`` (1,115,394 characters).

Nothing is downloaded when this module is imported. The first :func:`fetch` of a file
downloads it (with a progress bar) into the data directory; later calls find it there.
The downloading itself is done by `pooch <https://www.fatiando.org/pooch/>`__, the
library SciPy and scikit-image use for the same job: it streams the file into a
temporary file beside the target, checks its hash, and only then renames it to its
real name, so an interrupted or corrupt download never leaves a file that looks
complete.

Two environment variables steer where files come from and where they go:

``COURSE_DATA_DIR``
    Where datasets land. Default: ``data/`` at the repository root when course_lib
    runs from a checkout, else a per-user cache directory (``pooch.os_cache``).
``COURSE_DATA_MIRROR``
    A directory laid out like the download sources (``<mirror>/mnist/<file>``,
    ``<mirror>/tinyshakespeare/input.txt``). When set, files are copied from there
    instead of downloaded, and checked against the same hashes. For machines without
    internet access (CI sets it to the shared dataset mirror).

Both are read at every call, never cached at import, so a test or a notebook can
change them. Use absolute paths: a relative one is taken from the current directory,
which is the notebook's own folder inside Jupyter.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pooch

DATA_DIR_ENV = "COURSE_DATA_DIR"
MIRROR_ENV = "COURSE_DATA_MIRROR"
# The repository root when course_lib runs from a checkout: this file is
# <root>/course_lib/data/download.py (a test holds this to where the file is).
_CHECKOUT = Path(__file__).resolve().parents[2]
# What every DataFileError ends with.
FIX = "If it is a downloaded dataset file, delete it and run again to re-download it."


class DataFileError(ValueError):
    """A dataset file is corrupt, truncated or not in the expected format.

    The message names the file, says what is wrong with it and how to fix it.
    """


class DownloadError(OSError):
    """A download did not complete (no connection, HTTP error, connection cut)."""


@dataclass(frozen=True)
class DataFile:
    """One file of the registry.

    Attributes:
        url: where the file is downloaded from.
        known_hash: ``"md5:<hex>"`` or ``"sha256:<hex>"``, in pooch's notation (a
            bare hex string means SHA-256).
        size: the file's length in bytes, or None if not recorded. Checked before
            the hash, so a truncated file is reported as truncated.
    """

    url: str
    known_hash: str
    size: int | None = None


# The original MNIST host, http://yann.lecun.com/exdb/mnist/, is often down or asks
# for a login. torchvision downloads from this S3 mirror first; its files are
# byte-identical to the originals, so the MD5s published for MNIST (the ones
# torchvision checks too) hold. pooch takes one URL per file; to use another mirror,
# pass ``base_url=`` to fetch() or set COURSE_DATA_MIRROR.
_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)

# Keys are paths relative to the data directory, and also to a mirror directory and
# to a ``base_url``: one name says where a file lives everywhere. The test suite adds
# its own small files here (monkeypatch.setitem) to run the real download path
# against a local server; the entries below are never changed.
FILES = {
    "mnist/train-images-idx3-ubyte.gz": DataFile(
        _MNIST_URL + "train-images-idx3-ubyte.gz", "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422
    ),
    "mnist/train-labels-idx1-ubyte.gz": DataFile(
        _MNIST_URL + "train-labels-idx1-ubyte.gz", "md5:d53e105ee54ea40749a09fcbcd1e9432", 28_881
    ),
    "mnist/t10k-images-idx3-ubyte.gz": DataFile(
        _MNIST_URL + "t10k-images-idx3-ubyte.gz", "md5:9fb629c4189551a2d022fa330f9573f3", 1_648_877
    ),
    "mnist/t10k-labels-idx1-ubyte.gz": DataFile(
        _MNIST_URL + "t10k-labels-idx1-ubyte.gz", "md5:ec29112dd5afa0611ce80d1b7f02629c", 4_542
    ),
    # No checksum is published for this file; this SHA-256 was computed from the
    # file as served by the URL above (its MD5 is 6fb458f1232090904fb40fe944165e91).
    "tinyshakespeare/input.txt": DataFile(
        _SHAKESPEARE_URL,
        "sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        1_115_394,
    ),
}


# ----------------------------------------------------------------------------------
# Where files go, where they come from
# ----------------------------------------------------------------------------------


def resolve_data_dir(path=None):
    """The directory datasets land in, as an absolute ``Path`` (not created here).

    In order: ``path`` if given; else ``$COURSE_DATA_DIR`` if set and non-empty; else
    ``data/`` at the repository root when course_lib runs from a checkout (the
    package's parent folder holds ``pyproject.toml``); else a per-user cache folder.

    Args:
        path: a directory (``str`` or ``Path``; ``~`` is expanded), or None (the default).

    Returns:
        Path: the absolute data directory.
    """
    if path is None:
        path = os.environ.get(DATA_DIR_ENV) or None
    if path is None:
        if (_CHECKOUT / "pyproject.toml").is_file():
            path = _CHECKOUT / "data"
        else:
            path = pooch.os_cache("course_lib")
    return Path(path).expanduser().resolve()


class MirrorCopy:
    """A pooch downloader that copies a file from a local mirror directory.

    pooch calls it like any downloader, ``downloader(url, output_file, pooch)``, with
    ``output_file`` the temporary file to fill; pooch then checks the hash and renames,
    exactly as for a download. ``url`` is ignored: the source path is fixed here. A call
    raises ``FileNotFoundError`` when ``source`` is not a file.

    Args:
        source: the file to copy, ``<mirror>/<name>`` (``str`` or ``Path``).
    """

    def __init__(self, source):
        self.source = Path(source)

    def __call__(self, url, output_file, pooch_instance, check_only=False):
        if check_only:  # pooch's availability check (Pooch.is_available)
            return self.source.is_file()
        if not self.source.is_file():
            raise FileNotFoundError(
                f"{self.source}: not found in the dataset mirror. {MIRROR_ENV} names the "
                f"mirror directory; it must hold this file at that relative path. Unset "
                f"{MIRROR_ENV} to download from the internet instead."
            )
        shutil.copyfile(self.source, output_file)
        return None


class _SizeChecked:
    """Wrap a downloader: after it has written the file, compare the file's size.

    A size check tells "truncated" apart from "corrupt", which a hash alone cannot.
    Raising ValueError here makes pooch delete the temporary file, as it does when the
    hash does not match.
    """

    def __init__(self, downloader, name, source, expected_size):
        self.downloader = downloader
        self.name = name
        self.source = source
        self.expected_size = expected_size

    def __call__(self, url, output_file, pooch_instance, check_only=False):
        if check_only:
            return self.downloader(url, output_file, pooch_instance, check_only=True)
        self.downloader(url, output_file, pooch_instance)
        size = os.path.getsize(output_file)
        if self.expected_size is not None and size != self.expected_size:
            raise DataFileError(
                f"{self.name}: the copy from {self.source} has {size:,} bytes, expected "
                f"{self.expected_size:,} ({size_problem(size, self.expected_size)}). "
                f"Nothing was saved. Run again to download it again; if this persists, "
                f"the source itself holds a bad file."
            )
        return None


def size_problem(size, expected):
    """What is wrong with a file of ``size`` bytes that should have ``expected``.

    Args:
        size: the file's length in bytes.
        expected: the length it should have.

    Returns:
        str: ``"truncated"`` or ``"extra bytes at the end"``.
    """
    return "truncated" if size < expected else "extra bytes at the end"


def _check_existing(path, name, entry):
    """Raise DataFileError unless the file already in the data dir is intact."""
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        what = f"has {size:,} bytes, expected {entry.size:,} ({size_problem(size, entry.size)})"
    else:
        algorithm, _, expected = entry.known_hash.rpartition(":")
        algorithm = algorithm or "sha256"  # pooch's default when no "alg:" is given
        actual = pooch.file_hash(str(path), alg=algorithm)
        if actual == expected.lower():
            return
        what = f"fails its {algorithm.upper()} checksum (expected {expected}, got {actual})"
    raise DataFileError(
        f"{path}: this copy of {name} {what}. Delete it and run again to re-download it."
    )


def fetch(name, *, data_dir=None, mirror=None, base_url=None, progressbar=True):
    """Make sure dataset file ``name`` is in the data directory, intact; return its path.

    Args:
        name: a key of :data:`FILES`, e.g. ``"mnist/t10k-labels-idx1-ubyte.gz"``.
        data_dir: where the file lands; default: see :func:`resolve_data_dir`.
        mirror: a directory to copy from instead of downloading; default
            ``$COURSE_DATA_MIRROR`` (ignored when ``base_url`` is given).
        base_url: download from ``base_url + name`` instead of the file's canonical
            URL (another HTTP mirror, or a test server). Same hash check. Default None.
        progressbar: show a tqdm progress bar while downloading; default True.

    Returns:
        ``Path`` of the verified file, ``<data_dir>/<name>``.

    Raises:
        ValueError: ``name`` is not a key of :data:`FILES`, or both ``mirror`` and
            ``base_url`` are given.
        DataFileError: the file (already there, or just downloaded) is truncated or
            fails its checksum; the message says which file and what to do.
        DownloadError: the download failed (no connection, HTTP error, cut short).
        FileNotFoundError: the mirror does not hold the file.
    """
    if name not in FILES:
        raise ValueError(f"unknown dataset file {name!r}; known files: {', '.join(FILES)}")
    if mirror is not None and base_url is not None:
        raise ValueError("give either mirror= or base_url=, not both")
    entry = FILES[name]
    root = resolve_data_dir(data_dir)
    target = root / name

    # An explicit base_url beats the environment's mirror: a caller who names a
    # source gets that source.
    if mirror is None and base_url is None:
        mirror = os.environ.get(MIRROR_ENV) or None

    if target.exists():
        # pooch would quietly re-download a file whose hash does not match; we would
        # rather say so (a changed file in data/ is worth knowing about), and let
        # the user delete it.
        _check_existing(target, name, entry)
        return target

    if mirror is not None:
        source = Path(mirror).expanduser().resolve() / name
        url = source.as_uri()  # only shown in pooch's log line
        downloader = MirrorCopy(source)
    else:
        url = base_url.rstrip("/") + "/" + name if base_url is not None else entry.url
        source = url
        downloader = pooch.HTTPDownloader(progressbar=progressbar)

    # One Pooch per call: cheap, and it picks up a changed COURSE_DATA_DIR.
    manager = pooch.create(
        path=root,
        base_url="",
        registry={name: entry.known_hash},
        urls={name: url},
        allow_updates=False,
    )
    try:
        path = manager.fetch(name, downloader=_SizeChecked(downloader, name, source, entry.size))
    except DataFileError:
        raise
    except ValueError as exc:
        # pooch raises ValueError when the downloaded file's hash does not match; it
        # has already deleted the temporary file.
        raise DataFileError(
            f"{name}: the file from {source} fails its checksum and was not saved to "
            f"{target}. pooch says: {exc} Run again to download it again; if this "
            f"persists, the source serves a corrupt file: try another source "
            f"(base_url= or {MIRROR_ENV})."
        ) from exc
    except OSError as exc:
        # pooch downloads with requests, whose errors are OSErrors; others (a full disk)
        # are not a failed download.
        if not type(exc).__module__.startswith(("requests", "urllib3")):
            raise
        raise DownloadError(
            f"{name}: download from {url} failed ({type(exc).__name__}: {exc}). "
            f"Nothing was saved to {target}. Check the internet connection and run "
            f"again, or set {MIRROR_ENV} to a directory that holds {name}."
        ) from exc
    return Path(path)
