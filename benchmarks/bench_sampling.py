"""How long sampling from the shipped char-rnn takes: the goal is 500 characters in < 0.2 s.

Loads ``course_lib.pretrained.load_pretrained("shakespeare_lstm")`` (1-layer LSTM, hidden
256) and times ``course_lib.sampling.sample`` for 500 characters after a 6-character prime,
at temperature 0.8, a few times; prints the median and the fastest, and whether the goal
is met. A goal for the notebooks (sampling should feel instant), not a test: timings on a
shared machine vary too much for a test to rely on them.

    python benchmarks/bench_sampling.py
    python benchmarks/bench_sampling.py --length 2000 --repeats 20
"""

import argparse
import os
import statistics
import time

from course_lib._scratch import keep_freed_memory
from course_lib.pretrained import load_pretrained
from course_lib.sampling import sample

GOAL_SECONDS = 0.2  # for 500 characters


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=500, help="characters per sample (default: 500)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs (default: 10)")
    parser.add_argument("--name", default="shakespeare_lstm", help="the shipped checkpoint")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as in every process the course starts for itself

    start = time.perf_counter()
    ckpt = load_pretrained(args.name)
    load_seconds = time.perf_counter() - start
    sample(ckpt.model, ckpt.vocab, prime="ROMEO:", length=20, seed=0)  # warm up
    times = []
    for seed in range(args.repeats):
        start = time.perf_counter()
        text = sample(ckpt.model, ckpt.vocab, prime="ROMEO:", length=args.length, temperature=0.8,
                      seed=seed)
        times.append(time.perf_counter() - start)
    goal = GOAL_SECONDS * args.length / 500
    median = statistics.median(times)
    print(f"{args.name}: loaded in {load_seconds * 1000:.0f} ms; sampling {args.length} characters: "
          f"median {median * 1000:.1f} ms, fastest {min(times) * 1000:.1f} ms over {args.repeats} runs "
          f"({args.length / median:,.0f} characters/s); load average {os.getloadavg()[0]:.2f}")
    print(f"goal: {args.length} characters in < {goal:.2f} s: {'met' if median < goal else 'NOT met'}")
    print(f"\nthe last sample (seed {args.repeats - 1}):\n{text}")


if __name__ == "__main__":
    main()
