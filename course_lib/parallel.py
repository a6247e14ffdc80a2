"""Data parallelism on a CPU's cores: one minibatch split into shards, one thread per shard.

A training step of a small recurrent network is two kinds of work: matrix products,
which BLAS can spread over cores, and elementwise work (gates, tanh, products), which
NumPy runs on one core. On a 2-core laptop the elementwise half therefore leaves a core
idle. Splitting the *batch* instead keeps both busy with everything: each thread runs the
whole forward and backward pass on its shard, and the gradients are averaged.

Threads can do this in Python because NumPy releases the GIL inside its ufuncs and BLAS
calls, where nearly all the time goes; the kernels keep their scratch buffers per thread
(:mod:`course_lib._scratch`).

It pays off with one BLAS thread per worker. With BLAS threads on top, 2 workers x 2 BLAS
threads fight over 2 cores and the step gets slower. Start Python with
``OPENBLAS_NUM_THREADS=1`` (``make test`` does; set it before NumPy is imported).

The result is the plain step's, up to rounding: for a loss averaged over the batch,

    loss = sum_k (n_k / N) loss_k,     grads = sum_k (n_k / N) grads_k,

where shard ``k`` holds ``n_k`` of the ``N`` examples. The shards and the order of the sum
are fixed, so the same inputs always give the same bits. Only for losses that are means
over independent examples: not for anything that couples examples within a batch.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np


class ShardedLoss:
    """``loss_fn(x, y) -> (loss, grads)``, computed on ``workers`` shards of the batch at once.

    Args:
        loss_fn: the loss of a minibatch, e.g. ``model.loss`` of a
            :class:`~course_lib.models.SequenceClassifier`: takes ``x`` with the batch on
            axis 0 and ``y`` ``(N,)``; returns the mean loss and a dict of gradients.
            It must be safe to call from several threads at once: no shared random
            generator (dropout draws would interleave), nothing written to shared state.
        workers: shards, and threads; the number of cores is the natural choice.

    Use it where you would call ``loss_fn``::

        loss_and_grads = ShardedLoss(model.loss, workers=2)
        loss, grads = loss_and_grads(x, y)

    A batch smaller than ``workers`` runs in fewer shards. :meth:`close` (or a ``with``
    block) stops the threads.
    """

    def __init__(self, loss_fn, workers=2):
        if not isinstance(workers, (int, np.integer)) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers: expected an integer >= 1, got {workers!r}")
        self.loss_fn = loss_fn
        self.workers = int(workers)
        self._pool = ThreadPoolExecutor(max(1, self.workers - 1), thread_name_prefix="course_lib-shard")

    def __call__(self, x, y):
        N = len(y)
        if np.shape(x)[:1] != (N,):
            raise ValueError(f"x and y: expected the same batch size on axis 0, got x {np.shape(x)} "
                             f"and y {np.shape(y)}")
        if N == 0:
            raise ValueError("x and y: expected a batch of at least one example, got none")
        bounds = np.linspace(0, N, min(self.workers, N) + 1).round().astype(int)
        shards = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        # The calling thread takes the first shard itself rather than wait idle.
        futures = [self._pool.submit(self.loss_fn, x[s], y[s]) for s in shards[1:]]
        first = self.loss_fn(x[shards[0]], y[shards[0]])
        results = [first] + [f.result() for f in futures]  # re-raises a shard's exception here

        weights = [(s.stop - s.start) / N for s in shards]
        loss = sum(w * shard_loss for w, (shard_loss, _) in zip(weights, results))
        grads = {}
        for name in results[0][1]:
            total = weights[0] * results[0][1][name]  # a fresh array, never a shard's own
            for w, (_, shard_grads) in zip(weights[1:], results[1:]):
                total += w * shard_grads[name]
            grads[name] = total
        return loss, grads

    def close(self):
        """Stop the worker threads (they also stop when the program ends)."""
        self._pool.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
