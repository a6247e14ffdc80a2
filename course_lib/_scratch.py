"""Scratch buffers that kernels reuse from one call to the next.

Why: a fresh multi-megabyte NumPy array is fresh memory from the operating system, and
touching it the first time costs a page fault per page. On small VMs that was the
largest single cost of a training step, larger than some of the arithmetic. So the
temporaries a kernel needs *only while it runs* (a per-step product, the gate gradients
of a backward pass) live in buffers kept here and reused.

The rule that keeps this safe: a scratch buffer never leaves the kernel that asked for
it. It is never returned, never stored in a cache, never a view inside either. Outputs
and caches are always fresh arrays, so nothing a caller holds is ever overwritten.
Each thread has its own buffers, so kernels may run in several threads at once (a
learner's own threads, a widget's callback while a loop trains).
"""

import ctypes
import os
import sys
import threading

import numpy as np

KEEP_AT_MOST = 256 * 2**20  # bytes of freed heap keep_freed_memory() keeps
_MAX_BUFFERS = 32  # per thread, a few layers' worth; the oldest is dropped beyond that
_local = threading.local()  # _local.buffers: this thread's {(name, shape, dtype): array}


def scratch(name, shape, dtype):
    """A reusable uninitialised array of ``shape`` and ``dtype``, private to ``name``.

    ``name`` says which kernel and which temporary (e.g. ``"lstm_backward.dgates"``), so
    two temporaries of one kernel never share memory.
    """
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (name, tuple(shape), np.dtype(dtype))
    buf = buffers.get(key)
    if buf is None:
        if len(buffers) >= _MAX_BUFFERS:
            buffers.pop(next(iter(buffers)))
        buf = buffers[key] = np.empty(shape, dtype)
    return buf


def keep_freed_memory():
    """Ask the C allocator to keep freed memory for reuse, not return it to the system.

    Why: outputs and caches must be fresh arrays, a few megabytes per call. By default
    glibc maps fresh pages for each such array and returns them when it is freed, so
    every call pays a page fault per 4 KB page: about a quarter of an LSTM step at
    MNIST's size (``docs/benchmarks.md``). Kept, the next call's arrays reuse pages
    that are already mapped.

    It changes two settings of the whole process's allocator: arrays up to 32 MB come
    from the heap, and up to 256 MB of freed heap is kept rather than returned. So it is
    never called on import: only processes the course starts for itself switch it on
    (the command line, the benchmarks, :class:`course_lib.training.parallel.ShardedLoss`'s
    workers), never a notebook's kernel and never :func:`course_lib.training.fit`.
    Only on Linux with glibc; elsewhere, or with ``COURSE_KEEP_MEMORY=0``, it does nothing.

    Returns:
        bool: True if both settings were applied.
    """
    if os.environ.get("COURSE_KEEP_MEMORY") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    ok_mmap = mallopt(M_MMAP_THRESHOLD, 32 * 2**20)  # 32 MB: glibc's largest allowed
    ok_trim = mallopt(M_TRIM_THRESHOLD, KEEP_AT_MOST)
    return bool(ok_mmap and ok_trim)
