"""Data parallelism on a CPU's cores: one minibatch split into shards, one process per shard.

A training step of a small recurrent network is two kinds of work: matrix products,
which BLAS can spread over cores, and elementwise work (gates, tanh, products), which
NumPy runs on one core. On a 2-core laptop the elementwise half therefore leaves a core
idle. Splitting the *batch* instead keeps both busy with everything: each core runs the
whole forward and backward pass on its shard, and the gradients are averaged.

Why processes and not threads: NumPy releases Python's GIL inside each call, but takes it
back between calls, and an LSTM step is hundreds of short calls. Two threads keep handing
the GIL to each other, and each hand-over waits for the operating system to wake the
other thread (``docs/benchmarks.md`` has the measurements: two threads were slower than
two processes by 11 to 24%). So the first shard runs in the calling process and every other shard
in a worker process of its own, started once and kept for every later call. Workers are
started with ``spawn`` (a fresh Python that imports what it needs), which works the same
on Linux, macOS and Windows and inside Jupyter, with two rules: the model's class must
be importable from a module (course_lib's are; a class defined in a notebook cell is
not), and a script must create the ``ShardedLoss`` under ``if __name__ == "__main__":``.

What crosses between processes, through shared memory (no pickling per step): the
weights, copied in before each call, because the optimizer updates the caller's arrays
in place; each worker's slice of ``x``; and each worker's gradients. Only ``y``, the
loss and a short message go through a pipe. The shared memory is sized for the largest
batch seen: meant for training batches, not for a whole dataset at once.

It pays off with one BLAS thread per process. With BLAS threads on top, 2 processes x 2
BLAS threads fight over 2 cores and the step gets slower. The workers are started with
one; start Python itself with ``OPENBLAS_NUM_THREADS=1`` (``make test`` does; set it
before NumPy is imported).

The result is the one-process step's, up to rounding: for a loss averaged over the batch,

    loss = sum_k (n_k / N) loss_k,     grads = sum_k (n_k / N) grads_k,

where shard ``k`` holds ``n_k`` of the ``N`` examples. The shards and the order of the sum
are fixed, so the same inputs always give the same bits. Only for losses that are means
over independent examples: not for anything that couples examples within a batch.
"""

import math
import multiprocessing
import os
import pickle
import signal
import traceback
import weakref

import numpy as np

from .._checks import check_count
from .._scratch import keep_freed_memory

_ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
_START_HINT = ("the model must pickle and its class be importable from a module (a class "
               "defined in a notebook cell is not), and a script must create the ShardedLoss "
               "under `if __name__ == \"__main__\":`")


def usable_cpus(cgroup_root="/sys/fs/cgroup"):
    """How many CPUs this process may actually use: at least 1.

    Not ``os.cpu_count()``, which counts the host's CPUs: a container on Binder or
    Kubernetes sees all of them but may use only a few. Here: the CPUs of the process's
    affinity mask (``taskset``, ``docker --cpuset-cpus``), capped by a CPU quota of its
    cgroup (``docker --cpus``, a Kubernetes CPU limit), rounded down.

    Args:
        cgroup_root: where the cgroup file system is mounted (a test points it elsewhere);
            default ``"/sys/fs/cgroup"``.

    Returns:
        int: the number of CPUs, >= 1.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        count = os.cpu_count() or 1
    quota = _cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        count = min(count, math.floor(quota))
    return max(1, count)


def _cgroup_cpu_quota(root):
    """The cgroup's CPU limit in CPUs (e.g. 1.5), or None where there is none."""
    def read(path):
        try:
            with open(path) as f:
                return f.read().split()
        except OSError:
            return None
    # cgroup v2: "<quota> <period>" or "max <period>", in the process's own cgroup.
    own = ""  # the process's cgroup, from the line "0::<path>" (only under the real root)
    if root == "/sys/fs/cgroup":
        own = next((line[3:] for line in read("/proc/self/cgroup") or [] if line.startswith("0::")), "")
    for folder in dict.fromkeys([os.path.join(root, own.lstrip("/")), root]):
        fields = read(os.path.join(folder, "cpu.max"))
        if fields and len(fields) == 2:
            return None if fields[0] == "max" else int(fields[0]) / int(fields[1])
    # cgroup v1: a quota of -1 means none.
    for folder in ("cpu", "cpu,cpuacct"):
        quota = read(os.path.join(root, folder, "cpu.cfs_quota_us"))
        period = read(os.path.join(root, folder, "cpu.cfs_period_us"))
        if quota and period and int(quota[0]) > 0:
            return int(quota[0]) / int(period[0])
    return None


class ShardedLoss:
    """``model.loss(x, y) -> (loss, grads)``, computed on ``workers`` shards of the batch at once.

    Args:
        model: a model with ``params`` (a dict of arrays) and ``loss(x, y)``, e.g. a
            :class:`~course_lib.models.SequenceClassifier`: ``loss`` takes ``x`` with the
            batch on axis 0 and ``y`` ``(N,)``, and returns the mean loss and a dict of
            gradients keyed like ``params``. It is sent to the workers once (see the
            module doc for what that asks of it); its ``params`` before every call.
            Dropout is refused: the shards would need one random generator between them.
        workers: shards, and processes (the caller's own included). None (the default):
            one per CPU this process may use (:func:`usable_cpus`), the natural choice.

    Use it where you would call ``model.loss``::

        loss_and_grads = ShardedLoss(model)
        loss, grads = loss_and_grads(x, y)

    The workers start on the first call (a fraction of a second), and again when a batch
    needs more memory than any before or the model's parameter shapes change. A batch
    smaller than ``workers`` runs in fewer shards. An error in a worker's shard is raised
    here, with a note saying which examples and the worker's traceback. :meth:`close`
    (or a ``with`` block) stops the workers; they also stop when this object is garbage
    collected or the program ends.

    Raises:
        ValueError: ``workers`` is not an integer >= 1; ``model`` has no ``params`` dict
            or no ``loss`` method, or has dropout. A call raises it for an empty batch, or
            for ``x`` and ``y`` of different batch sizes.
    """

    def __init__(self, model, workers=None):
        workers = usable_cpus() if workers is None else check_count("workers", workers)
        if not (isinstance(getattr(model, "params", None), dict) and callable(getattr(model, "loss", None))):
            raise ValueError(f"model: expected an object with a params dict and a loss(x, y) method, "
                             f"got {type(model).__name__}")
        if getattr(model, "dropout", 0) > 0:
            raise ValueError(f"model: expected no dropout (its masks would need one random generator "
                             f"shared by the shards), got dropout={model.dropout}")
        self.model = model
        self.workers = int(workers)
        self._pool = None

    def __call__(self, x, y):
        N = len(y)
        if np.shape(x)[:1] != (N,):
            raise ValueError(f"x and y: expected the same batch size on axis 0, got x {np.shape(x)} "
                             f"and y {np.shape(y)}")
        if N == 0:
            raise ValueError("x and y: expected a batch of at least one example, got none")
        x, y = np.asarray(x), np.asarray(y)
        bounds = np.linspace(0, N, min(self.workers, N) + 1).round().astype(int).tolist()
        shards = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        if len(shards) == 1:
            return self.model.loss(x, y)

        x_bytes = max(x[s].nbytes for s in shards[1:])
        if self._pool is None or not self._pool.fits(self.model.params, x_bytes):
            self.close()
            self._pool = _WorkerPool(self.model, self.workers - 1, x_bytes)
        self._pool.start(self.model.params, x, y, shards[1:])
        try:
            loss, grads = self.model.loss(x[shards[0]], y[shards[0]])
        finally:
            results = self._pool.finish()  # always collected, so the next call starts clean

        weights = [(s.stop - s.start) / N for s in shards]  # Python floats: they keep float32 float32
        loss = weights[0] * loss
        grads = {name: weights[0] * g for name, g in grads.items()}  # fresh arrays, ours to sum into
        for w, (shard_loss, shard_grads) in zip(weights[1:], results):
            loss += w * shard_loss
            for name, g in grads.items():
                g += w * shard_grads[name]
        return loss, grads

    @property
    def pids(self):
        """The worker processes' ids, to watch them (none before the first call or after close)."""
        return [] if self._pool is None else [p.pid for p in self._pool.processes]

    def close(self):
        """Stop the worker processes (they start again on the next call)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _WorkerPool:
    """Worker processes for shards 1, 2, ... and the shared memory they work in."""

    def __init__(self, model, count, x_bytes):
        self.layout = {name: (a.shape, a.dtype) for name, a in model.params.items()}
        self.x_bytes = x_bytes
        self.x, self.grads, self.conns, self.processes = [], [], [], []
        # Registered first, so workers started before a failure below are stopped too.
        self._finalizer = weakref.finalize(self, _stop, self.conns, self.processes)
        # True while every reply to the last call has been read; an interrupted call
        # (Ctrl-C) or a dead worker leaves it False, and the next call starts new workers.
        self.in_step = True
        self.shards = []  # the slices of the batch the workers hold now, set by start()
        context = multiprocessing.get_context("spawn")
        self.params_buffer, self.params = _shared(context, self.layout)
        try:
            model_bytes = pickle.dumps(model)  # unpickled in the worker, which reports a failure
        except Exception as error:
            raise ValueError(f"model: cannot be sent to a worker process ({error}); {_START_HINT}") from None
        saved = {name: os.environ.get(name) for name in _ONE_THREAD}
        os.environ.update(_ONE_THREAD)  # what the children inherit: one BLAS thread each
        try:
            for _ in range(count):
                x_buffer = context.RawArray("b", max(x_bytes, 1))
                grads_buffer, grads_view = _shared(context, self.layout)
                ours, theirs = context.Pipe()
                process = context.Process(
                    target=_serve, daemon=True, name="course_lib-shard",
                    args=(theirs, model_bytes, self.params_buffer, self.layout, x_buffer, grads_buffer))
                process.start()
                theirs.close()
                self.x.append(x_buffer)
                self.grads.append(grads_view)
                self.conns.append(ours)
                self.processes.append(process)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        for conn, process in zip(self.conns, self.processes):
            try:
                status, message = conn.recv()  # "ready", or why not
            except (EOFError, OSError):
                process.join(5)
                status, message = "error", f"it exited (code {process.exitcode}) while starting"
            if status != "ready":
                self.close()
                raise RuntimeError(f"ShardedLoss: a worker process could not start: {message}. "
                                   f"Check that {_START_HINT}.")

    def fits(self, params, x_bytes):
        return (self.in_step and x_bytes <= self.x_bytes
                and {name: (a.shape, a.dtype) for name, a in params.items()} == self.layout)

    def start(self, params, x, y, shards):
        self.in_step = False
        for name, a in params.items():
            np.copyto(self.params[name], a)  # the optimizer changed the caller's arrays in place
        self.shards = shards  # fewer than the workers when the batch is small
        for conn, x_buffer, s in zip(self.conns, self.x, shards):
            x_shard = x[s]
            np.copyto(_array(x_buffer, x_shard.shape, x_shard.dtype), x_shard)
            try:
                conn.send((x_shard.shape, x_shard.dtype.str, y[s]))
            except OSError:
                pass  # the worker is gone: finish() reports it

    def finish(self):
        """``[(loss, grads)]`` of each worker's shard; raises the first failing worker's error."""
        results, error, worker_died = [], None, False
        for conn, process, grads, s in zip(self.conns, self.processes, self.grads, self.shards):
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                process.join(1)
                worker_died = True
                status, value = "error", (RuntimeError(
                    f"ShardedLoss: worker process {process.pid} stopped (exit code "
                    f"{process.exitcode}); the next call starts new workers"), None)
            if status == "ok":
                results.append((value, grads))
            elif error is None:
                error, worker_traceback = value
                if worker_traceback is not None:
                    error.add_note(f"(raised in a ShardedLoss worker, on examples "
                                   f"{s.start}:{s.stop} of the batch)\n{worker_traceback}")
        self.in_step = not worker_died  # every reply read: the workers are ready for more
        if error is not None:
            raise error
        return results

    def close(self):
        self._finalizer()


def _offsets(layout):
    """Where each ``name: (shape, dtype)`` array starts in one buffer, and the buffer's size."""
    offsets, size = {}, 0
    for name, (shape, dtype) in layout.items():
        size = -(-size // 8) * 8  # aligned for any dtype
        offsets[name] = size
        size += int(np.prod(shape)) * np.dtype(dtype).itemsize
    return offsets, size


def _shared(context, layout):
    """A shared-memory buffer for the arrays of ``layout``, and those arrays (views into it)."""
    buffer = context.RawArray("b", max(_offsets(layout)[1], 1))
    return buffer, _views(buffer, layout)


def _views(buffer, layout):
    offsets, _ = _offsets(layout)
    return {name: _array(buffer, shape, dtype, offsets[name]) for name, (shape, dtype) in layout.items()}


def _array(buffer, shape, dtype, offset=0):
    """An array of ``shape`` and ``dtype`` over ``buffer``, starting ``offset`` bytes in."""
    return np.frombuffer(buffer, dtype, int(np.prod(shape)), offset).reshape(shape)


def _serve(conn, model_bytes, params_buffer, layout, x_buffer, grads_buffer):
    """A worker process: compute ``model.loss`` on the shard in shared memory until told to stop."""
    # Ctrl-C in a terminal (or Jupyter's interrupt) reaches the whole process group: the
    # caller handles it, and stops the workers if it must.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()  # a process of the course's own: fresh arrays without page faults
    try:
        model = pickle.loads(model_bytes)
    except Exception as error:
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    model.params.update(_views(params_buffer, layout))  # the model now reads the shared weights
    grads_out = _views(grads_buffer, layout)
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the caller has gone (e.g. a restarted kernel)
            return
        if message is None:
            return
        shape, dtype, y = message
        try:
            loss, grads = model.loss(_array(x_buffer, shape, dtype), y)
            for name, out in grads_out.items():
                g = np.asarray(grads[name])
                if g.shape != out.shape or g.dtype != out.dtype:
                    raise ValueError(f"grads[{name!r}]: expected shape {out.shape} and dtype "
                                     f"{out.dtype} (those of the parameter), got {g.shape} {g.dtype}")
                np.copyto(out, g)
            conn.send(("ok", loss))
        except Exception as error:  # the caller re-raises it; the worker keeps serving
            conn.send(("error", (_sendable(error), traceback.format_exc())))


def _sendable(error):
    """``error`` if it survives the trip to the caller's process, else a RuntimeError saying it."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def _stop(conns, processes):
    for conn in conns:
        try:
            conn.send(None)
        except OSError:
            pass  # already gone
    for conn, process in zip(conns, processes):
        process.join(2)
        if process.is_alive():
            process.terminate()
            process.join(1)
        conn.close()
