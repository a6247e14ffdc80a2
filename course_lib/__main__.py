"""``python -m course_lib``: the command line of :mod:`course_lib.cli` (train, sample, evaluate, fetch)."""

import sys

from ._scratch import keep_freed_memory
from .cli import main

if __name__ == "__main__":
    keep_freed_memory()  # a process of the course's own: see the function's docstring
    sys.exit(main())
