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
    glibc gives each such array fresh pages from the operating system and returns them
    when the array is freed, so every call pays a page fault per 4 KB page; measured
    here, that was a quarter of an LSTM forward + backward (N=128, T=28, H=128:
    20.3 ms with 2,400 page faults a call, 15.3 ms with none). Keeping freed memory
    makes the next call's arrays reuse the same, already mapped pages.

    It changes two settings of this process's allocator (arrays up to 32 MB come from
    the heap, and the heap is not shrunk), so memory a program frees stays reserved for
    its next arrays. Only on Linux with glibc; elsewhere it does nothing. Called once when
    course_lib is imported; ``COURSE_KEEP_MEMORY=0`` turns it off.
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
    ok_trim = mallopt(M_TRIM_THRESHOLD, 1 * 2**30)
    return bool(ok_mmap and ok_trim)
