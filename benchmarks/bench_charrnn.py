"""char-rnn on tiny-shakespeare: course_lib against PyTorch, same recipe, same minutes.

The recipe: a 1-layer LSTM, hidden 256, one-hot input, float32; batch 64 contiguous
streams walked 100 characters at a time with the state carried (truncated BPTT, state
reset at each epoch, and each stream starting fresh from a zero state once every 50
chunks, the recipe of ``python -m course_lib train``); Adam 2e-3; gradient norm clipped at 5. Training: the first 90% of
the text. Validation: the last 10%, read as one stream (state carried, in chunks).

Each side trains for the same wall-clock budget (validation excluded from it), in its
own process, one after the other, with the same number of threads. By default both start
from the same weights (course_lib's initialisation, copied into torch); the data and its
order are the same. Printed: the validation loss, steps and characters per second of
each side, the validation curve, the throughput ratio, the peak memory, and a summary
line that checks the must-reach goals.

Without the fresh starts, a model a few hundred steps old could read the validation part
as one stream far worse than its training loss said (6.4 nats/char at step 300 from
seed 0, where any other start read at 2.2): from a zero state, the validation text's
opening blank lines drove its cell into a regime training never visited, and it stayed
there. PyTorch, from the same weights with course_lib's single bias, did the same: a
property of the recipe (the model had only ever read from states carried a long way),
not of a kernel. (torch's own two biases, each with its own Adam step, move the bias
about twice as fast: not quite the same recipe, and at seed 0 it happened not to stall.)
``docs/benchmarks.md`` has the measurements.

    python benchmarks/bench_charrnn.py                  # 10 minutes each: ~22 minutes
    python benchmarks/bench_charrnn.py --minutes 0.5    # a quick end-to-end check
    python benchmarks/bench_charrnn.py --which course_lib
"""

import argparse

import _common

from course_lib.data.batching import stream_batches
from course_lib.models import CharRNN
from course_lib.optim import Adam, clip_grad_norm
from course_lib.training import TruncatedBPTT, evaluate_lm
from course_lib.training.metrics import bits_per_char
from course_lib.training.tbptt import FRESH_STATE_EVERY

SIDES = ("course_lib", "torch")
EVAL_CHUNK = 1000  # characters per forward call in validation (only speed depends on it)
MUST_GAP, MUST_LOSS, MUST_RATIO, GOAL_RATIO, MUST_RSS_MB = 0.05, 1.75, 0.75, 1.0, 1024


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per side")
    parser.add_argument("--val-every", type=float, default=None,
                        help="minutes of training between validations (default: a fifth of --minutes)")
    parser.add_argument("--which", choices=("both",) + SIDES, default="both")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torch-init", choices=("course_lib", "torch"), default="course_lib",
                        help="torch's starting weights: course_lib's (the same as the other "
                             "side) or torch's own default initialisation")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--clip", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    _common.add_side_arguments(parser)
    args = parser.parse_args(argv)
    if args.val_every is None:
        args.val_every = args.minutes / 5
    return args


def course_lib_side(args):
    vocab, train_ids, val_ids = _common.load_text_split()
    model = CharRNN(vocab.size, args.hidden, cell="lstm", seed=args.seed)  # float32
    optimizer = Adam(model.params, lr=args.lr)
    tbptt = TruncatedBPTT(model, train_ids, args.batch_size, args.seq_len, fresh_state_every=FRESH_STATE_EVERY)

    def step(batch):  # the work of one step of course_lib.training.fit
        loss, grads = tbptt.step(batch)  # forward + backward, state carried
        clip_grad_norm(grads, args.clip)
        optimizer.step(grads)

    def validate():
        return evaluate_lm(model, val_ids, batch_size=1, seq_len=EVAL_CHUNK)

    return _common.train_for(args.minutes * 60, step, tbptt.batches(), validate,
                             val_every=args.val_every * 60, label="course_lib",
                             items_per_step=args.batch_size * args.seq_len)


def torch_side(args):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    vocab, train_ids, val_ids = _common.load_text_split()
    V, H = vocab.size, args.hidden
    lstm = torch.nn.LSTM(V, H, batch_first=True)
    head = torch.nn.Linear(H, V)
    if args.torch_init == "course_lib":
        start = CharRNN(V, H, cell="lstm", seed=args.seed).params
        for module, arrays in ((lstm, _common.torch_lstm_state(start, "layer0.")),
                               (head, _common.torch_linear_state(start))):
            module.load_state_dict({k: torch.from_numpy(a) for k, a in arrays.items()})
    params = [*lstm.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=args.lr)

    def forward(x, state):
        out, state = lstm(F.one_hot(torch.from_numpy(x), V).float(), state)
        return head(out), state

    state = None

    def step(batch):
        nonlocal state
        x, y, fresh = batch
        if len(fresh) == len(x):
            state = None  # the streams restart: so does the state
        elif len(fresh) and state is not None:
            state = tuple(s.clone() for s in state)  # (1, N, H) each
            for s in state:
                s[:, torch.from_numpy(fresh)] = 0  # these streams start from nothing
        logits, state = forward(x, state)
        loss = F.cross_entropy(logits.reshape(-1, V), torch.from_numpy(y).reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, args.clip)
        optimizer.step()
        state = tuple(s.detach() for s in state)  # carried, but no gradient through it

    @torch.no_grad()
    def validate():  # as evaluate_lm(model, val_ids, batch_size=1): one stream
        total, count, state = 0.0, 0, None
        for x, y in stream_batches(val_ids, 1, EVAL_CHUNK, drop_last=False):
            logits, state = forward(x, state)
            targets = torch.from_numpy(y).reshape(-1)
            total += float(F.cross_entropy(logits.reshape(-1, V).double(), targets, reduction="sum"))
            count += y.size
        return total / count

    batches = _common.stream_epochs(train_ids, args.batch_size, args.seq_len)
    return _common.train_for(args.minutes * 60, step, batches, validate,
                             val_every=args.val_every * 60, label="torch",
                             items_per_step=args.batch_size * args.seq_len)


def report(args, results, load_start):
    print()
    print(f"char-rnn, tiny-shakespeare: LSTM hidden {args.hidden}, one-hot, batch {args.batch_size} x "
          f"seq {args.seq_len}, Adam {args.lr:g}, clip {args.clip:g}, float32, {args.threads} threads, "
          f"{args.minutes:g} min of training per side; torch init: {args.torch_init}")
    sides = list(results)
    runs = {s: _common.Run.from_result(r) for s, r in results.items()}
    rows = [
        ("val loss (nats/char)", lambda s: f"{runs[s].final_val:.4f}"),
        ("val loss (bits/char)", lambda s: f"{bits_per_char(runs[s].final_val):.4f}"),
        *_common.run_rows(runs, results, "chars"),
    ]
    print(f"{'':22}" + "".join(f"{s:>14}" for s in sides))
    for name, cell in rows:
        print(f"{name:22}" + "".join(f"{cell(s):>14}" for s in sides))
    print("validation curve (nats/char at each validation; training time, step):")
    for k in range(max(len(r.curve) for r in runs.values())):
        cells = []
        for s in sides:
            if k < len(runs[s].curve):
                t, step, loss = runs[s].curve[k]
                cells.append(f"{s} {loss:.4f} ({_common.clock(t)}, step {step})")
        print("  " + "   ".join(cells))

    tail = f"load average {load_start} at the start, {_common.load()} at the end"
    if "course_lib" not in runs:
        print(f"summary: torch only, nothing to check (val {runs['torch'].final_val:.4f}; {tail})")
        return
    ours = runs["course_lib"]
    must = [(f"val < {MUST_LOSS}", ours.final_val < MUST_LOSS),
            (f"peak RSS < {MUST_RSS_MB} MB", results["course_lib"]["peak_rss_mb"] < MUST_RSS_MB)]
    goals = []
    if "torch" in runs:
        theirs = runs["torch"]
        gap = ours.final_val - theirs.final_val
        ratio = (ours.items / ours.train_seconds) / (theirs.items / theirs.train_seconds)
        print(f"val gap course_lib - torch: {gap:+.4f} nats/char (goal < 0, must <= {MUST_GAP})")
        print(f"throughput ratio course_lib / torch: {ratio:.3f} "
              f"(goal >= {GOAL_RATIO}, must >= {MUST_RATIO})")
        must += [(f"val within {MUST_GAP} of torch", gap <= MUST_GAP),
                 (f"throughput >= {MUST_RATIO}", ratio >= MUST_RATIO)]
        goals += [("val lower than torch", gap < 0), (f"throughput >= {GOAL_RATIO}", ratio >= GOAL_RATIO)]
    details = ", ".join(f"{s} {runs[s].final_val:.4f}" for s in sides)
    text = f"must-reach {_common.verdict(must)}"
    if goals:
        text += f"; goals {_common.verdict(goals)}"
    print(f"summary: {text} (val {details}; {args.minutes:g} min; {tail})")


if __name__ == "__main__":
    _common.main(__file__, parse_args, {"course_lib": course_lib_side, "torch": torch_side}, report)
