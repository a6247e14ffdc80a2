"""Time to 2.0 nats/char: Karpathy's min-char-rnn against course_lib's batched vanilla RNN.

Both are vanilla RNNs with 100 hidden units and one-hot input, trained on the first 90%
of tiny-shakespeare and validated on the last 10%, read as one stream from a zero state.
Validation runs every few seconds of training (the clock is stopped meanwhile); a side
stops at its first validation loss at or below the target. Its time to the target is
interpolated linearly between that validation and the one before, so it depends little
on how often each side is validated. Each side runs in its own process, one after the other.

- min-char-rnn (``course_lib.minchar``), as Karpathy wrote it: one sequence, 25
  characters per update, Adagrad 0.1, gradients clipped by value at 5, float64, a
  Python loop over the time steps of a single column vector.
- The batched RNN: ``CharRNN(cell="rnn", hidden_size=100)``, float32, 32 contiguous
  streams of 25 characters per update (``TruncatedBPTT``, state carried), Adam 3e-3,
  gradient norm clipped at 5. Why these: the chunk length is min-char-rnn's own 25, so
  what differs is the batch and the optimizer. 32 streams turn each step's 32
  matrix-vector products into one matrix product and read 32 times as many characters
  per update; many more streams would mean fewer updates for the same characters, and
  the first minutes are about updates. Adam's per-parameter step size does not decay the
  way Adagrad's does; 3e-3 with norm clipping is a little above the course's char-rnn
  default (2e-3), which suits a small model early in training. In a short probe (12 s
  each, on a loaded machine) 32x25 at 3e-3 reached 2.01 where 32x50 at 2e-3 was at 2.12
  and 64x25 at 3e-3 at 2.05.

    python benchmarks/bench_minchar.py                 # up to 15 minutes per side
    python benchmarks/bench_minchar.py --minutes 0.5   # a quick end-to-end check
"""

import argparse
import itertools

import _common

from course_lib import minchar
from course_lib.models import CharRNN
from course_lib.optim import Adam, clip_grad_norm
from course_lib.training import TruncatedBPTT, evaluate_lm

SIDES = ("minchar", "batched")
GOAL_SPEEDUP = 5.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0,
                        help="the most training time per side (a side stops at the target)")
    parser.add_argument("--target", type=float, default=2.0, help="validation loss, nats/char")
    parser.add_argument("--which", choices=("both",) + SIDES, default="both")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--minchar-val-every", type=float, default=15.0,
                        help="seconds of training between validations of min-char-rnn")
    parser.add_argument("--batched-val-every", type=float, default=1.0,
                        help="seconds of training between validations of the batched RNN")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=25)
    parser.add_argument("--lr", type=float, default=3e-3, help="the batched RNN's Adam")
    parser.add_argument("--seed", type=int, default=0)
    _common.add_side_arguments(parser)
    return parser.parse_args(argv)


def minchar_side(args):
    vocab, train_ids, val_ids = _common.load_text_split()
    model = minchar.MinCharRNN(vocab, seed=args.seed)  # hidden 100, seq 25, Adagrad 0.1
    return _common.train_for(args.minutes * 60, model.step, itertools.repeat(train_ids),
                             lambda: model.evaluate(val_ids, chunk=1000),
                             val_every=args.minchar_val_every, stop_at=args.target,
                             items_per_step=model.seq_length, label="minchar")


def batched_side(args):
    vocab, train_ids, val_ids = _common.load_text_split()
    model = CharRNN(vocab.size, 100, cell="rnn", seed=args.seed)  # float32
    optimizer = Adam(model.params, lr=args.lr)
    tbptt = TruncatedBPTT(model, train_ids, args.batch_size, args.seq_len)

    def step(batch):
        loss, grads = tbptt.step(batch)
        clip_grad_norm(grads, 5.0)
        optimizer.step(grads)

    return _common.train_for(args.minutes * 60, step, tbptt.batches(),
                             lambda: evaluate_lm(model, val_ids, batch_size=1, seq_len=1000),
                             val_every=args.batched_val_every, stop_at=args.target,
                             items_per_step=args.batch_size * args.seq_len, label="batched")


def report(args, results, load_start):
    print()
    print(f"time to {args.target} nats/char on validation (one stream), at most {args.minutes:g} min "
          f"per side, {args.threads} threads")
    sides = list(results)
    runs = {s: _common.Run.from_result(r) for s, r in results.items()}
    every = {"minchar": args.minchar_val_every, "batched": args.batched_val_every}
    first = {s: runs[s].first_time_at_or_below(args.target) for s in sides}
    reached = {s: runs[s].crossing_time(args.target) for s in sides}  # interpolated
    names = {"minchar": "min-char-rnn", "batched": f"batched RNN {args.batch_size}x{args.seq_len}"}
    print(f"{'':26}" + "".join(f"{names[s]:>24}" for s in sides))
    rows = [
        (f"time to {args.target} (s)",
         lambda s: "not reached" if reached[s] is None else f"{reached[s]:.1f}"),
        (f"first val <= {args.target} at (s)", lambda s: "-" if first[s] is None else f"{first[s]:.1f}"),
        ("validated every (s)", lambda s: f"{every[s]:g}"),
        ("last val loss (nats/char)", lambda s: f"{runs[s].final_val:.4f}"),
        *_common.run_rows(runs, results, "chars"),
    ]
    for name, cell in rows:
        print(f"{name:26}" + "".join(f"{cell(s):>24}" for s in sides))
    for s in sides:
        points = ", ".join(f"{loss:.3f}@{t:.0f}s" for t, _, loss in runs[s].curve)
        print(f"  {names[s]} validations: {points}")

    tail = f"load average {load_start} at the start, {_common.load()} at the end"
    if len(sides) < 2:
        got = "not reached" if reached[sides[0]] is None else f"{reached[sides[0]]:.1f} s"
        print(f"summary: {names[sides[0]]} only, time to {args.target}: {got} ({tail})")
        return
    ours, theirs = reached["batched"], reached["minchar"]
    if ours is None:
        text = f"goal NOT met: the batched RNN did not reach {args.target} in {args.minutes:g} min"
    elif theirs is None:
        bound = runs["minchar"].train_seconds / ours
        met = "met" if bound >= GOAL_SPEEDUP else "undecided"
        text = (f"goal {met}: speed-up at least {bound:.1f}x (min-char-rnn did not reach {args.target} "
                f"in {args.minutes:g} min; the batched RNN took {ours:.1f} s)")
    else:
        speedup = theirs / ours
        met = "met" if speedup >= GOAL_SPEEDUP else "NOT met"
        text = (f"goal {met}: speed-up {speedup:.1f}x (>= {GOAL_SPEEDUP:g}x; min-char-rnn {theirs:.1f} s, "
                f"batched RNN {ours:.1f} s)")
    print(f"summary: {text} ({tail})")


if __name__ == "__main__":
    _common.main(__file__, parse_args, {"minchar": minchar_side, "batched": batched_side}, report)
