"""MNIST read by rows: course_lib against PyTorch, same recipe, same shuffles.

The recipe: each 28x28 image is a sequence of 28 rows of 28 pixels (scaled to [0, 1]);
a 1-layer LSTM, hidden 128, reads it, and a linear layer on its last state gives the 10
class scores. Adam 1e-3, batch 128, float32, 5 epochs over the 60,000 training images,
no gradient clipping. Test accuracy on the 10,000 test images after each epoch.

Both sides see the same minibatches in the same order (one seeded generator, the same
on both sides, draws a new order each epoch), and by default start from the same
weights (course_lib's initialisation, copied into torch). Each side runs in its own
process, one after the other, with the same number of threads; only training is timed.
torch spreads each operation over its threads; course_lib splits each minibatch into
one shard per core (``course_lib.training.parallel.ShardedLoss``: the first shard in this process,
the others in worker processes, one BLAS thread each), which keeps both cores busy with
the elementwise work too. ``--workers 1`` runs course_lib's plain step with BLAS threads
instead.

    python benchmarks/bench_mnist.py               # 5 epochs each: ~1 minute
    python benchmarks/bench_mnist.py --epochs 1    # a quick end-to-end check
"""

import argparse
import time

import _common
import numpy as np

from course_lib.data.batching import minibatches
from course_lib.data.datasets import load_mnist, scale_pixels
from course_lib.models import SequenceClassifier
from course_lib.optim import Adam
from course_lib.training import evaluate_classifier
from course_lib.training.parallel import ShardedLoss

SIDES = ("course_lib", "torch")
MUST_ACC_POINTS, MUST_RATIO = 0.3, 1.3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--which", choices=("both",) + SIDES, default="both")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None,
                        help="course_lib's shards per minibatch, one process and one BLAS thread "
                             "each (default: --threads); 1: one shard, --threads BLAS threads")
    parser.add_argument("--torch-init", choices=("course_lib", "torch"), default="course_lib",
                        help="torch's starting weights: course_lib's (the same as the other "
                             "side) or torch's own default initialisation")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    _common.add_side_arguments(parser)
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = args.threads
    return args


def side_env(args):
    """Sharded: one BLAS thread per shard's process (more would fight over the cores)."""
    return {"course_lib": {"OPENBLAS_NUM_THREADS": "1"}} if args.workers > 1 else {}


def load_data():
    """``(X_train, y_train, X_test, y_test)``; X float32 ``(n, 28, 28)``: row t is step t."""
    X_train, y_train = load_mnist("train", progressbar=False)
    X_test, y_test = load_mnist("test", progressbar=False)
    return scale_pixels(X_train), y_train, scale_pixels(X_test), y_test


def train_epochs(args, step, evaluate):
    """The loop both sides share: ``step(x, y)`` per minibatch; time each epoch, then test."""
    X_train, y_train, X_test, y_test = load_data()
    order = np.random.default_rng(args.seed)  # one generator: a new shuffle every epoch
    result = {"epoch_seconds": [], "test_loss": [], "test_acc": []}
    for epoch in range(args.epochs):
        start = time.perf_counter()
        for x, y in minibatches(X_train, y_train, args.batch_size, rng=order):
            step(x, y)
        result["epoch_seconds"].append(time.perf_counter() - start)
        loss, acc = evaluate(X_test, y_test)  # not timed
        result["test_loss"].append(loss)
        result["test_acc"].append(acc)
        print(f"  [{args.side}] epoch {epoch + 1}: {result['epoch_seconds'][-1]:.1f} s, "
              f"test loss {loss:.4f}, accuracy {100 * acc:.2f}%", flush=True)
    return result


def course_lib_side(args):
    model = SequenceClassifier(28, args.hidden, 10, cell="lstm", seed=args.seed)  # float32
    optimizer = Adam(model.params, lr=args.lr)
    loss_and_grads = ShardedLoss(model, args.workers) if args.workers > 1 else model.loss

    def step(x, y):
        loss, grads = loss_and_grads(x, y)
        optimizer.step(grads)

    result = train_epochs(args, step, lambda X, y: evaluate_classifier(model, X, y))
    if args.workers > 1:
        result["workers_rss_mb"] = sum(_common.peak_rss_mb_of(pid) for pid in loss_and_grads.pids)
        loss_and_grads.close()
    return result


def torch_side(args):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    lstm = torch.nn.LSTM(28, args.hidden, batch_first=True)
    head = torch.nn.Linear(args.hidden, 10)
    if args.torch_init == "course_lib":
        start = SequenceClassifier(28, args.hidden, 10, cell="lstm", seed=args.seed).params
        for module, arrays in ((lstm, _common.torch_lstm_state(start, "layer0.")),
                               (head, _common.torch_linear_state(start))):
            module.load_state_dict({k: torch.from_numpy(a) for k, a in arrays.items()})
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=args.lr)

    def forward(x):
        out, _ = lstm(torch.from_numpy(x))
        return head(out[:, -1])  # the last state: the LSTM has read every row

    def step(x, y):
        loss = F.cross_entropy(forward(x), torch.from_numpy(y))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def evaluate(X, y, batch_size=256):  # as course_lib.training.evaluate_classifier
        total, correct = 0.0, 0
        for start in range(0, len(X), batch_size):
            logits = forward(X[start:start + batch_size]).double()
            labels = torch.from_numpy(y[start:start + batch_size])
            total += float(F.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(1) == labels).sum())
        return total / len(X), correct / len(X)

    return train_epochs(args, step, evaluate)


def report(args, results, load_start):
    print()
    print(f"MNIST by rows: LSTM hidden {args.hidden}, Adam {args.lr:g}, batch {args.batch_size}, "
          f"float32, {args.threads} threads, {args.epochs} epoch(s); torch init: {args.torch_init}")
    print(f"course_lib: {args.workers} shard(s) per minibatch, "
          f"{1 if args.workers > 1 else args.threads} BLAS thread(s) each")
    sides = list(results)
    mean = {s: float(np.mean(r["epoch_seconds"])) for s, r in results.items()}
    # course_lib's worker processes hold memory too: each at its own peak, added up.
    rss = {s: r["peak_rss_mb"] + r.get("workers_rss_mb", 0) for s, r in results.items()}
    print(f"{'':24}" + "".join(f"{s:>12}" for s in sides))
    rows = [("test accuracy (%)", lambda s: f"{100 * results[s]['test_acc'][-1]:.2f}"),
            ("test loss (nats)", lambda s: f"{results[s]['test_loss'][-1]:.4f}"),
            ("s/epoch (mean)", lambda s: f"{mean[s]:.2f}"),
            ("peak RSS (MB)", lambda s: f"{rss[s]:.0f}")]
    for name, cell in rows:
        print(f"{name:24}" + "".join(f"{cell(s):>12}" for s in sides))
    for epoch in range(args.epochs):
        cells = [f"{s} {100 * results[s]['test_acc'][epoch]:.2f}% "
                 f"in {results[s]['epoch_seconds'][epoch]:.1f} s" for s in sides]
        print(f"  epoch {epoch + 1}: " + "   ".join(cells))
    if len(sides) < 2:
        print(f"summary: {sides[0]} only, nothing to compare (load average {load_start} at the "
              f"start, {_common.load()} at the end)")
        return
    ours, theirs = results["course_lib"], results["torch"]
    gap = 100 * (ours["test_acc"][-1] - theirs["test_acc"][-1])
    ratio = mean["course_lib"] / mean["torch"]
    print(f"accuracy course_lib - torch: {gap:+.2f} points (must >= -{MUST_ACC_POINTS})")
    print(f"s/epoch course_lib / torch: {ratio:.3f} (must <= {MUST_RATIO})")
    checks = [(f"accuracy within {MUST_ACC_POINTS} points of torch", gap >= -MUST_ACC_POINTS),
              (f"s/epoch ratio <= {MUST_RATIO}", ratio <= MUST_RATIO)]
    print(f"summary: must-reach {_common.verdict(checks)} (accuracy {gap:+.2f} points, s/epoch "
          f"ratio {ratio:.2f}; load average {load_start} at the start, {_common.load()} at the end)")


if __name__ == "__main__":
    _common.main(__file__, parse_args, {"course_lib": course_lib_side, "torch": torch_side}, report,
                 side_env=side_env)
