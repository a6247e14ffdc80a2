"""MNIST's file format, IDX, read in a few lines of NumPy.

Derived byte by byte in ``notebooks/05_mnist_rows`` (to come).
"""

import gzip
import zlib
from pathlib import Path

import numpy as np

from .download import FIX, DataFileError, size_problem

# IDX (http://yann.lecun.com/exdb/mnist/, bottom of the page): a 4-byte magic number
# 0x00 0x00 <dtype code> <number of dimensions>, then each dimension as a big-endian
# uint32, then the values, big-endian, in C order.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data, source="<bytes>"):
    """Parse the bytes of an (uncompressed) IDX file into an array.

    Args:
        data: the file's bytes.
        source: the file's name, for error messages; default ``"<bytes>"``.

    Returns:
        A writable array in native byte order, of the shape and type the header
        gives, e.g. uint8 ``(60000, 28, 28)`` for MNIST training images.

    Raises:
        DataFileError: bad magic number, unknown dtype code, header or payload
            shorter or longer than the header says.
    """

    def bad(what):
        return DataFileError(f"{source}: not a valid IDX file: {what}. {FIX}")

    if len(data) < 4:
        raise bad(f"{len(data)} bytes is too short for the 4-byte magic number")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise bad(f"magic number starts with 0x{zero0:02x} 0x{zero1:02x}, expected 0x00 0x00")
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise bad(f"unknown dtype code 0x{code:02x} in the magic number (known: {known})")
    if ndim == 0:
        raise bad("the magic number says 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise bad(f"header truncated: {ndim} dimensions need {header_len} bytes, file has {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(data) - header_len
    if payload != expected:
        raise bad(
            f"the header says shape {shape} of {dtype.name} ({expected:,} bytes of data), "
            f"the file has {payload:,} bytes of data ({size_problem(payload, expected)})"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    # A copy in native byte order: writable (frombuffer on bytes is read-only), and
    # big-endian values would make every later operation convert them again.
    return array.astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file, gzip-compressed or not (told apart by content, not by name).

    Args:
        path: the file (``str`` or ``Path``), e.g. ``train-images-idx3-ubyte.gz``.

    Returns:
        The array, as :func:`parse_idx`.

    Raises:
        DataFileError: the file is a damaged gzip stream or not a valid IDX file.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip's magic number
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            # EOFError: the stream ends early (truncated); BadGzipFile (an OSError)
            # and zlib.error: corrupt bytes.
            raise DataFileError(f"{path}: damaged gzip data ({exc}). {FIX}") from exc
    return parse_idx(data, source=str(path))
