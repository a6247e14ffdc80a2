"""``python -m course_lib``: the command line of :mod:`course_lib.cli` (train, sample, evaluate)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
