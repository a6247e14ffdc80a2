"""What the benchmark scripts share: the text and its split, a clock that stops while
the model is validated, a runner that gives each side its own process, and the load.

Each comparison script (``bench_charrnn.py``, ``bench_mnist.py``, ``bench_minchar.py``)
runs the two sides one after the other, each in a fresh Python process started by
:func:`run_sides`:

- they never compete for the cores (this machine has two);
- the peak memory of a process (``ru_maxrss``) is that side's alone, and the NumPy side
  never even imports torch;
- BLAS threads are fixed by environment variables before NumPy is imported.

A side process runs ``script --side NAME --result FILE`` plus the options of the parent,
writes a JSON dict to FILE (via :func:`finish_side`) and exits. The parent reads the dicts
and prints the table. Nothing here imports torch.
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from course_lib._scratch import keep_freed_memory
from course_lib.data.batching import stream_batches, train_val_split
from course_lib.data.datasets import load_tinyshakespeare
from course_lib.data.vocab import CharVocab
from course_lib.training.tbptt import FRESH_STATE_EVERY

# --- Data -----------------------------------------------------------------------------

def load_text_split(val_fraction=0.1):
    """tiny-shakespeare as ids: ``(vocab, train_ids, val_ids)``.

    The vocabulary is built from the whole text (65 characters). The validation part is
    the last ``val_fraction`` of the text, contiguous: it is read as one stream.
    """
    text = load_tinyshakespeare(progressbar=False)
    vocab = CharVocab.from_text(text)
    train_ids, val_ids = train_val_split(vocab.encode(text), val_size=val_fraction)
    return vocab, train_ids, val_ids


def stream_epochs(ids, batch_size, seq_len):
    """Endless ``(x, y, fresh)`` chunks of contiguous streams, epoch after epoch.

    The same chunks, in the same order, as ``course_lib.training.TruncatedBPTT.batches()``
    (no random offsets), for the PyTorch side. ``fresh`` says which streams start from a
    zero state, as TruncatedBPTT's default recipe does: all of them at the start of an
    epoch (the streams restart), else the streams whose turn it is for a fresh start
    (stream n on chunks k with ``k % FRESH_STATE_EVERY == n % FRESH_STATE_EVERY``).
    """
    streams = np.arange(batch_size)
    while True:
        for k, (x, y) in enumerate(stream_batches(ids, batch_size, seq_len)):
            fresh = streams if k == 0 else np.flatnonzero(streams % FRESH_STATE_EVERY == k % FRESH_STATE_EVERY)
            yield x, y, fresh


def torch_lstm_state(params, prefix=""):
    """A course_lib LSTM layer's weights under ``nn.LSTM``'s names (layer 0), as arrays.

    Both keep the gate blocks in the order i, f, g, o; course_lib stores ``x @ Wx`` with
    ``Wx (D, 4H)``, torch ``weight_ih_l0 @ x`` with ``(4H, D)``: a transpose. course_lib
    has one bias where torch has two that are added: ``bias_hh_l0`` is zero.
    For ``lstm.load_state_dict({k: torch.from_numpy(v) ...})``: same starting weights.
    """
    b = params[prefix + "b"]
    return {"weight_ih_l0": params[prefix + "Wx"].T.copy(), "weight_hh_l0": params[prefix + "Wh"].T.copy(),
            "bias_ih_l0": b.copy(), "bias_hh_l0": 0 * b}


def torch_linear_state(params, prefix="head."):
    """course_lib's head ``h @ W + b`` under ``nn.Linear``'s names (``weight`` is ``W.T``)."""
    return {"weight": params[prefix + "W"].T.copy(), "bias": params[prefix + "b"].copy()}


# --- Training against the clock -----------------------------------------------------------

@dataclass
class Run:
    """What :func:`train_for` measured. Times in seconds of training (validation excluded)."""

    steps: int = 0
    train_seconds: float = 0.0
    items: int = 0  # what a step consumes (characters, examples), summed
    curve: list = field(default_factory=list)  # [train_seconds, steps, val_loss] per validation

    @classmethod
    def from_result(cls, result):
        """The :class:`Run` inside a side's result dict (which also holds ``peak_rss_mb``)."""
        return cls(**{name: result[name] for name in cls.__dataclass_fields__})

    @property
    def final_val(self):
        return self.curve[-1][2] if self.curve else math.nan

    def first_time_at_or_below(self, target):
        """Training seconds at the first validation with loss <= target, or None."""
        return next((t for t, _, loss in self.curve if loss <= target), None)

    def crossing_time(self, target):
        """When the loss passed ``target``, interpolated linearly between the last
        validation above it and the first at or below it; None if it never did.

        Less dependent on how often validation ran than :meth:`first_time_at_or_below`,
        which can only be late, by up to one validation interval.
        """
        before = (0.0, math.inf)
        for t, _, loss in self.curve:
            if loss <= target:
                if not math.isfinite(before[1]):
                    return t  # reached at the first validation: nothing to interpolate
                t0, loss0 = before
                return t0 + (t - t0) * (loss0 - target) / (loss0 - loss)
            before = (t, loss)
        return None


def train_for(seconds, step, batches, validate, *, val_every, items_per_step, stop_at=None,
              label=""):
    """Train for ``seconds`` of training time; validate every ``val_every`` of them.

    Each loop takes a batch and calls ``step(batch)`` (forward, backward, update). Only
    that is timed; the clock is stopped while ``validate()`` runs. The last step may end
    a little after the budget: it is not cut short. Validation runs when the clock passes
    ``val_every``, ``2 * val_every``, ..., and at the end.

    Args:
        step: ``step(batch)``, one training step.
        batches: an iterator of batches.
        validate: ``() -> loss``.
        items_per_step: characters (or examples) per step, for the throughput.
        stop_at: stop early at the first validation loss at or below this.
        label: prefix of the progress line printed at each validation.

    Returns:
        :class:`Run`.
    """
    run = Run()
    next_val = val_every
    batches = iter(batches)
    while run.train_seconds < seconds:
        start = time.perf_counter()
        step(next(batches))
        run.train_seconds += time.perf_counter() - start
        run.steps += 1
        run.items += items_per_step
        if run.train_seconds >= min(next_val, seconds):
            loss = float(validate())
            run.curve.append([run.train_seconds, run.steps, loss])
            print(f"  [{label}] {clock(run.train_seconds)} step {run.steps:6d}  val {loss:.4f}",
                  flush=True)
            while next_val <= run.train_seconds:
                next_val += val_every
            if stop_at is not None and loss <= stop_at:
                break
    return run


# --- One process per side ---------------------------------------------------------------

def add_side_arguments(parser):
    """The two options by which the parent tells a child process what to do, left out
    of ``--help``: ``--side`` (run this side only) and ``--result`` (its JSON file)."""
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)


def run_sides(script, sides, argv, threads, side_env=None):
    """Run ``script *argv --side S`` for each side S, one after the other; return {S: result}.

    ``argv`` is the parent's own options, so a child sees the same settings. Each child
    gets ``threads`` BLAS/OpenMP threads (set before NumPy loads), or what
    ``side_env[S]`` says instead, and inherits stdout, so its progress lines show as they come.
    """
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in sides:
            path = os.path.join(tmp, f"{side}.json")
            print(f"-- {side} (load {load()})", flush=True)
            subprocess.run([sys.executable, script, *argv, "--side", side, "--result", path],
                           env=env | (side_env or {}).get(side, {}), check=True)
            with open(path) as f:
                results[side] = json.load(f)
    return results


def main(script, parse_args, sides, report, side_env=None):
    """The entry point every benchmark shares.

    In the parent: run each chosen side (``--which``) in its own process, one after the
    other, then ``report(args, results, load_at_start)``. In a child (``--side S``): run
    ``sides[S](args)`` and write its result for the parent. ``side_env(args)``, if given,
    returns environment overrides per side (see :func:`run_sides`).
    """
    args = parse_args()
    if args.side:
        keep_freed_memory()  # a process of the course's own (see its docstring)
        finish_side(args.result, sides[args.side](args))
        return
    load_start = load()
    chosen = tuple(sides) if args.which == "both" else (args.which,)
    env = side_env(args) if side_env else None
    report(args, run_sides(script, chosen, sys.argv[1:], args.threads, env), load_start)


def run_rows(runs, results, unit):
    """The table rows every training benchmark prints: (label, side -> text)."""
    return [
        ("steps", lambda s: f"{runs[s].steps}"),
        ("training seconds", lambda s: f"{runs[s].train_seconds:.1f}"),
        (f"{unit}/s (training)", lambda s: f"{runs[s].items / runs[s].train_seconds:,.0f}"),
        ("peak RSS (MB)", lambda s: f"{results[s]['peak_rss_mb']:.0f}"),
    ]


def finish_side(path, result):
    """In a child: add the process's peak memory to ``result`` and write it as JSON."""
    if isinstance(result, Run):
        result = asdict(result)
    result["peak_rss_mb"] = peak_rss_mb()
    with open(path, "w") as f:
        json.dump(result, f)


def peak_rss_mb():
    """This process's peak resident memory in MB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb_of(pid):
    """Another live process's peak resident memory in MB (Linux's ``VmHWM``), e.g. a worker
    of ``ShardedLoss``. Not ``RUSAGE_CHILDREN``: a child started by fork and exec reports the
    parent's memory at the fork as its own peak."""
    with open(f"/proc/{pid}/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return kib / 1024


# --- Printing ----------------------------------------------------------------------------

def load():
    """The 1-minute load average, as text. Above the core count, timings are suspect."""
    return f"{os.getloadavg()[0]:.2f}"


def clock(seconds):
    """Seconds as ``m:ss``."""
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def verdict(checks):
    """``[(label, passed)]`` -> ``"all met"`` or ``"NOT met: a, b"``."""
    failed = [label for label, passed in checks if not passed]
    return "all met" if not failed else "NOT met: " + ", ".join(failed)
