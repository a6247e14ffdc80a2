"""Scratch buffers that kernels reuse from one call to the next.

Why: a fresh multi-megabyte NumPy array is fresh memory from the operating system, and
touching it the first time costs a page fault per page. On small VMs that was the
largest single cost of a training step, larger than some of the arithmetic. So the
temporaries a kernel needs *only while it runs* (a per-step product, the gate gradients
of a backward pass) live in buffers kept here and reused.

The rule that keeps this safe: a scratch buffer never leaves the kernel that asked for
it. It is never returned, never stored in a cache, never a view inside either. Outputs
and caches are always fresh arrays, so nothing a caller holds is ever overwritten.
(Not thread-safe: two threads running kernels at once would share buffers.)
"""

import numpy as np

_MAX_BUFFERS = 32  # a few layers' worth; the oldest is dropped beyond that
_buffers = {}


def scratch(name, shape, dtype):
    """A reusable uninitialised array of ``shape`` and ``dtype``, private to ``name``.

    ``name`` says which kernel and which temporary (e.g. ``"lstm_backward.dgates"``), so
    two temporaries of one kernel never share memory.
    """
    key = (name, tuple(shape), np.dtype(dtype))
    buf = _buffers.get(key)
    if buf is None:
        if len(_buffers) >= _MAX_BUFFERS:
            _buffers.pop(next(iter(_buffers)))
        buf = _buffers[key] = np.empty(shape, dtype)
    return buf
