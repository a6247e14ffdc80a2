"""Data parallelism on a CPU's cores: one minibatch split into shards, one process per shard.

A training step of a small recurrent network is two kinds of work: matrix products,
which BLAS can spread over cores, and elementwise work (gates, tanh, products), which
NumPy runs on one core. On a 2-core laptop the elementwise half therefore leaves a core
idle. Splitting the *batch* instead keeps both busy with everything: each core runs the
whole forward and backward pass on its shard, and the gradients are averaged.

Why processes and not threads: NumPy releases Python's GIL inside each call, but takes it
back between calls, and an LSTM step is hundreds of short calls. Two threads keep handing
the GIL to each other, and each hand-over waits for the operating system to wake the
other thread. Measured on a 2-core VM (MNIST's LSTM, hidden 128, batch 128 in two
shards of 64): one shard alone 9.7 ms; the two shards in two threads 11.0 ms, in two
processes 9.9 ms. So the first shard runs in the calling process and every other shard
in a worker process of its own, started once (with ``spawn``, which works the same on
Linux, macOS and Windows and inside Jupyter) and kept for every later call.

What crosses between processes, through shared memory (no pickling per step): the
weights, copied in before each call, because the optimizer updates the caller's arrays
in place; each worker's slice of ``x``; and each worker's gradients. Only ``y``, the
loss and a short message go through a pipe.

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

import multiprocessing
import os
import pickle
import signal
import weakref

import numpy as np

_ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


class ShardedLoss:
    """``model.loss(x, y) -> (loss, grads)``, computed on ``workers`` shards of the batch at once.

    Args:
        model: a model with ``params`` (a dict of arrays) and ``loss(x, y)``, e.g. a
            :class:`~course_lib.models.SequenceClassifier`: ``loss`` takes ``x`` with the
            batch on axis 0 and ``y`` ``(N,)``, and returns the mean loss and a dict of
            gradients keyed like ``params``. It is sent to the workers once, so it must
            pickle and its class must be importable (course_lib's models are); its
            ``params`` are sent again before every call. Dropout is not supported: each
            shard calls ``model.loss(x, y)`` with nothing else.
        workers: shards, and processes (the caller's own included); the number of cores
            is the natural choice.

    Use it where you would call ``model.loss``::

        loss_and_grads = ShardedLoss(model, workers=2)
        loss, grads = loss_and_grads(x, y)

    The workers start on the first call (a fraction of a second), and again when a batch
    brings a larger shard, another input shape or dtype, or a change in the model's
    parameter shapes. A batch smaller than ``workers`` runs in fewer shards. :meth:`close`
    (or a ``with`` block) stops the workers; they also stop when this object is garbage
    collected or the program ends.
    """

    def __init__(self, model, workers=2):
        if not isinstance(workers, (int, np.integer)) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers: expected an integer >= 1, got {workers!r}")
        if not (isinstance(getattr(model, "params", None), dict) and callable(getattr(model, "loss", None))):
            raise ValueError(f"model: expected an object with a params dict and a loss(x, y) method, "
                             f"got {type(model).__name__}")
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

        largest = max(s.stop - s.start for s in shards[1:])
        if self._pool is None or self._pool.broken or not self._pool.fits(self.model.params, largest, x):
            self.close()
            self._pool = _WorkerPool(self.model, self.workers - 1, largest, x)
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

    def __init__(self, model, count, shard_capacity, x):
        self.layout = {name: (a.shape, a.dtype) for name, a in model.params.items()}
        self.x_layout = {"x": ((shard_capacity,) + x.shape[1:], x.dtype)}
        context = multiprocessing.get_context("spawn")
        self.params_buffer, self.params = _shared(context, self.layout)
        self.x, self.grads, self.conns, self.processes = [], [], [], []
        saved = {name: os.environ.get(name) for name in _ONE_THREAD}
        os.environ.update(_ONE_THREAD)  # what the children inherit: one BLAS thread each
        try:
            for _ in range(count):
                x_buffer, x_view = _shared(context, self.x_layout)
                grads_buffer, grads_view = _shared(context, self.layout)
                ours, theirs = context.Pipe()
                process = context.Process(
                    target=_serve, daemon=True, name="course_lib-shard",
                    args=(theirs, model, self.params_buffer, self.layout, x_buffer, self.x_layout,
                          grads_buffer))
                process.start()
                theirs.close()
                self.x.append(x_view["x"])
                self.grads.append(grads_view)
                self.conns.append(ours)
                self.processes.append(process)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        self.busy, self.broken = 0, False
        self._finalizer = weakref.finalize(self, _stop, self.conns, self.processes)

    def fits(self, params, shard_size, x):
        (capacity, *item_shape), dtype = self.x_layout["x"]
        return (shard_size <= capacity and list(x.shape[1:]) == item_shape and x.dtype == dtype
                and {name: (a.shape, a.dtype) for name, a in params.items()} == self.layout)

    def start(self, params, x, y, shards):
        try:
            self._start(params, x, y, shards)
        except BaseException:  # e.g. Ctrl-C: who got a shard is unknown, so start afresh
            self.broken = True
            raise

    def _start(self, params, x, y, shards):
        for name, a in params.items():
            np.copyto(self.params[name], a)  # the optimizer changed the caller's arrays in place
        self.busy = len(shards)  # a small batch leaves some workers idle
        for conn, x_shared, s in zip(self.conns, self.x, shards):
            n = s.stop - s.start
            np.copyto(x_shared[:n], x[s])
            try:
                conn.send((n, y[s]))
            except OSError:
                pass  # the worker is gone: finish() reports it

    def finish(self):
        """``[(loss, grads)]`` of each worker's shard; raises the first shard's error."""
        try:
            return self._finish()
        except BaseException:
            # Interrupted (e.g. Ctrl-C) before every reply was read: a stale reply would
            # pair with the next call's shard, so that call starts new workers instead.
            self.broken = True
            raise

    def _finish(self):
        results, error = [], None
        busy = zip(self.conns[:self.busy], self.processes, self.grads)
        self.busy = 0
        for conn, process, grads in busy:
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                process.join(1)
                self.broken = True
                status, value = "error", RuntimeError(
                    f"ShardedLoss: worker process {process.pid} stopped (exit code "
                    f"{process.exitcode}); the next call starts new workers")
            if status == "ok":
                results.append((value, grads))
            elif error is None:
                error = value
        if error is not None:
            raise error  # the workers are in step: the next call can use them
        return results

    def close(self):
        self._finalizer()


def _offsets(layout):
    """Where each ``name: (shape, dtype)`` array starts in one buffer, and the buffer's size."""
    offsets, size = {}, 0
    for name, (shape, dtype) in layout.items():
        size = -(-size // 64) * 64  # each array starts on a cache line
        offsets[name] = size
        size += int(np.prod(shape)) * np.dtype(dtype).itemsize
    return offsets, size


def _shared(context, layout):
    """A shared-memory buffer for the arrays of ``layout``, and those arrays (views into it)."""
    buffer = context.RawArray("b", max(_offsets(layout)[1], 1))
    return buffer, _views(buffer, layout)


def _views(buffer, layout):
    offsets, _ = _offsets(layout)
    return {name: np.frombuffer(buffer, dtype, int(np.prod(shape)), offsets[name]).reshape(shape)
            for name, (shape, dtype) in layout.items()}


def _serve(conn, model, params_buffer, layout, x_buffer, x_layout, grads_buffer):
    """A worker process: compute ``model.loss`` on the shard in shared memory until told to stop."""
    # Ctrl-C in a terminal (or Jupyter's interrupt) reaches the whole process group: the
    # caller handles it, and stops the workers if it must.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    model.params.update(_views(params_buffer, layout))  # the model now reads the shared weights
    x = _views(x_buffer, x_layout)["x"]
    grads_out = _views(grads_buffer, layout)
    while (message := conn.recv()) is not None:
        n, y = message
        try:
            loss, grads = model.loss(x[:n], y)
            for name, g in grads_out.items():
                np.copyto(g, grads[name])
            conn.send(("ok", loss))
        except Exception as error:  # the caller re-raises it; the worker keeps serving
            try:
                pickle.dumps(error)
            except Exception:
                error = RuntimeError(f"{type(error).__name__}: {error}")
            conn.send(("error", error))


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
