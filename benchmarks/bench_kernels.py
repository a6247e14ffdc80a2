"""Speed of course_lib's recurrent kernels against PyTorch's, measured in the same run.

For each cell (rnn, lstm, gru) and three shapes, times one forward + backward pass over a
whole float32 sequence (input gradients included on both sides) and prints the ratio
course_lib / torch: below 1.0 means course_lib is faster. Torch is limited to the same
number of threads as NumPy's BLAS, so the comparison is like for like.

    python benchmarks/bench_kernels.py            # all shapes, all cells
    python benchmarks/bench_kernels.py --repeats 50

Shapes: A) MNIST read by rows, B) char-rnn, C) min-char-rnn with a batch.
"""

import argparse
import os
import time

import numpy as np
import torch

from course_lib import gru, lstm, rnn
from course_lib._scratch import keep_freed_memory

SHAPES = {  # name: (N, T, D, H)
    "A": (128, 28, 28, 128),
    "B": (64, 100, 65, 256),
    "C": (32, 25, 65, 100),
}
MUST_REACH = {"rnn": 1.5, "gru": 1.5, "lstm": {"A": 2.0, "B": 1.6, "C": 1.6}}


def numpy_threads():
    """How many threads NumPy's BLAS uses (threadpoolctl is not a dependency)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var):
            return int(os.environ[var])
    return os.cpu_count()


def best_times(fns, repeats, rounds=3):
    """The fastest run of each function, in seconds.

    Each function runs in blocks of ``repeats`` calls, and the functions take turns block
    by block for ``rounds`` rounds, so a slow drift of load from elsewhere hits both
    sides alike, and the minimum is the run least disturbed by it. Turns are taken by
    block, not by call: right after a call, OpenBLAS's and PyTorch's worker threads keep
    spinning for a moment, and a call of the other library squeezed in at once would be
    measured against them.
    """
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            fn()  # warm up: first-call allocations, waking the thread pool
            for _ in range(repeats):
                start = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - start)
            time.sleep(0.2)  # let the other library's spinning threads go idle
    return best


def course_lib_pass(cell, x, h0, params, dh):
    forward, backward = {
        "rnn": (rnn.rnn_forward, rnn.rnn_backward),
        "lstm": (lstm.lstm_forward, lstm.lstm_backward),
        "gru": (gru.gru_forward, gru.gru_backward),
    }[cell]

    def run():
        h, cache = forward(x, h0, *params)
        backward(dh, cache)

    return run


def torch_pass(cell, x, h0, dh):
    N, T, D = x.shape
    H = h0.shape[1]
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        D, H, batch_first=True
    )
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0)[None].clone().requires_grad_()
    state = (h0t, torch.zeros_like(h0t)) if cell == "lstm" else h0t
    dht = torch.from_numpy(dh)

    def run():
        module.zero_grad()
        out, _ = module(xt, state)
        out.backward(dht)

    return run


def make_inputs(cell, N, T, D, H, rng):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    scale = 1 / np.sqrt(H)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    h0 = rng.standard_normal((N, H), dtype=np.float32) * 0.1
    Wx = rng.uniform(-scale, scale, (D, gates * H)).astype(np.float32)
    Wh = rng.uniform(-scale, scale, (H, gates * H)).astype(np.float32)
    b = np.zeros(gates * H, np.float32)
    params = (Wx, Wh, b, b.copy()) if cell == "gru" else (Wx, Wh, b)
    dh = rng.standard_normal((N, T, H), dtype=np.float32)
    return x, h0, params, dh


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per block (3 blocks each)")
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES))
    args = parser.parse_args()
    keep_freed_memory()  # as in every process the course starts for itself (docs/benchmarks.md)

    threads = numpy_threads()
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    load = os.getloadavg()[0]
    print(f"float32 forward+backward, {threads} thread(s), best of 3 x {args.repeats}, load {load:.2f}")
    print(f"{'cell':5} {'shape':22} {'course_lib ms':>14} {'torch ms':>9} {'ratio':>6} {'must':>5}")
    failures = []
    for cell in args.cells:
        for name in args.shapes:
            N, T, D, H = SHAPES[name]
            x, h0, params, dh = make_inputs(cell, N, T, D, H, rng)
            ours, theirs = best_times(
                [course_lib_pass(cell, x, h0, params, dh), torch_pass(cell, x, h0, dh)], args.repeats
            )
            ratio = ours / theirs
            must = MUST_REACH[cell][name] if cell == "lstm" else MUST_REACH[cell]
            if ratio > must:
                failures.append(f"{cell}/{name}")
            shape = f"{name} N={N} T={T} D={D} H={H}"
            print(f"{cell:5} {shape:22} {ours * 1e3:14.2f} {theirs * 1e3:9.2f} {ratio:6.2f} {must:5.1f}")
    verdict = "all within the must-reach ratios" if not failures else "above must-reach: " + ", ".join(failures)
    print(f"summary: {verdict} (load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
