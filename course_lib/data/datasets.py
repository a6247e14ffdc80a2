"""The course's datasets, loaded: tiny-shakespeare (``notebooks/02_rnn_bptt`` to
``04_char_rnn``) and MNIST (for ``notebooks/05_mnist_rows``, to come).

Each loader fetches its files on first use (:func:`course_lib.data.download.fetch`:
from ``COURSE_DATA_MIRROR`` where it is set, else from the web), checks them and reads
them.
"""

import numpy as np

from .download import FIX, DataFileError, fetch
from .idx import read_idx

MNIST_FILES = {
    "train": ("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz"),
    "test": ("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"),
}


def load_mnist(split="train", *, data_dir=None, mirror=None, base_url=None, progressbar=True):
    """MNIST images and labels, fetched on first use.

    Args:
        split: ``"train"`` (60,000 digits, the default) or ``"test"`` (10,000).
        data_dir: keyword-only, like the rest; where the files land; None (the default):
            see :func:`~course_lib.data.download.resolve_data_dir`.
        mirror: a directory to copy the files from; None (the default):
            ``$COURSE_DATA_MIRROR`` if set, else download.
        base_url: download from this URL (plus the file's name) instead; default None.
        progressbar: show a progress bar while downloading; default True.

    Returns:
        images: uint8 ``(n, 28, 28)``, 0 = background, 255 = ink; see
            :func:`scale_pixels` for floats in [0, 1].
        labels: int64 ``(n,)``, digits 0-9. int64, not the file's uint8, because
            uint8 arithmetic wraps around silently (``np.uint8(0) - 1 == 255``).

    Raises:
        ValueError: ``split`` is neither ``"train"`` nor ``"test"``, or both ``mirror`` and
            ``base_url`` are given.
        DataFileError: a file is truncated, fails its checksum, is not a valid IDX file,
            or does not hold MNIST's images ``(n, 28, 28)`` and digit labels ``(n,)``.
        DownloadError: a download failed.
        FileNotFoundError: the mirror does not hold a file.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"split must be one of {sorted(MNIST_FILES)}, got {split!r}")
    paths = [
        fetch(name, data_dir=data_dir, mirror=mirror, base_url=base_url, progressbar=progressbar)
        for name in MNIST_FILES[split]
    ]
    images, labels = (read_idx(p) for p in paths)

    def bad(path, what):
        return DataFileError(f"{path}: {what}. {FIX}")

    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise bad(paths[0], f"expected uint8 images (n, 28, 28), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise bad(paths[1], f"expected uint8 labels (n,), got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise bad(paths[1], f"{len(labels)} labels for {len(images)} images in {paths[0]}")
    if labels.size and labels.max() > 9:
        raise bad(paths[1], f"label {labels.max()} is not a digit 0-9")
    return images, labels.astype(np.int64)


def scale_pixels(images, dtype=np.float32):
    """uint8 pixels 0..255 -> floats in [0, 1], same shape. float32 unless asked.

    Args:
        images: uint8 array of any shape, e.g. ``(n, 28, 28)`` from :func:`load_mnist`.
        dtype: the floating dtype of the result; default ``np.float32``.

    Returns:
        array of ``images``' shape and ``dtype``, ``pixel / 255``.

    Raises:
        ValueError: ``images`` is not uint8.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images: expected uint8 pixels, got dtype {images.dtype}")
    return images.astype(dtype) / 255  # a Python int keeps float32 float32


def load_tinyshakespeare(*, data_dir=None, mirror=None, base_url=None, progressbar=True):
    """The tiny-shakespeare corpus as one ``str`` of 1,115,394 characters.

    Args:
        data_dir: keyword-only, like the rest; where the file lands; None (the default):
            see :func:`~course_lib.data.download.resolve_data_dir`.
        mirror: a directory to copy the file from; None (the default):
            ``$COURSE_DATA_MIRROR`` if set, else download.
        base_url: download from this URL (plus the file's name) instead; default None.
        progressbar: show a progress bar while downloading; default True.

    Returns:
        str: the whole text.

    Raises:
        ValueError: both ``mirror`` and ``base_url`` are given.
        DataFileError: the file is truncated or fails its checksum (see :func:`fetch`).
        DownloadError: a download failed.
        FileNotFoundError: the mirror does not hold the file.
    """
    path = fetch(
        "tinyshakespeare/input.txt",
        data_dir=data_dir,
        mirror=mirror,
        base_url=base_url,
        progressbar=progressbar,
    )
    # Bytes, decoded: reading in text mode would translate newlines, and the
    # character count must be the file's.
    return path.read_bytes().decode("utf-8")
