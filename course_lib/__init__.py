"""course_lib: the NumPy library behind the RNN course.

Every kernel a notebook derives lives here once, and each module's docstring names the
notebook that explains it. The package is laid out in layers, and imports run one way,
from the edge down (``tests/test_layout.py`` holds the code to this map):

Kernels: the math, NumPy only (the contract: ``docs/kernel-contract.md``)
    :mod:`activations`, :mod:`losses`, :mod:`layers`, :mod:`rnn`, :mod:`lstm`,
    :mod:`gru`, :mod:`birnn`, :mod:`optim`, :mod:`gradcheck`; :mod:`cells` (the three
    cells behind one table); ``_checks`` (argument checks), ``_scratch`` (reused buffers).
``data/``: datasets, files, vocabularies, batches (NumPy, pooch and ``_checks`` only)
    ``download`` (the mirror and downloads), ``idx`` (MNIST's file format),
    ``datasets`` (loaders), ``vocab``, ``batching``.
Model math: built on the kernels and ``data/``
    :mod:`models` (``CharRNN``, ``SequenceClassifier``), :mod:`sampling`,
    :mod:`schedules`, :mod:`minchar` (Karpathy's min-char-rnn), :mod:`surfaces` (the
    2-D loss surfaces optimizers are watched on).
``training/``: everything that trains or evaluates a model
    ``loop`` (``fit``), ``tbptt`` (truncated BPTT), ``evaluate``, ``metrics``,
    ``checkpoints``, ``parallel`` (a batch over the CPU's cores), ``minchar_loop``.
The edge: nothing below imports it
    ``notebook/`` (the figure style, ``COURSE_MODE``, the widget builders, one module of
    experiments and widgets per notebook), ``exercises/`` (one checker module per
    notebook), ``cli/`` (``python -m course_lib``, one module per command),
    ``pretrained/`` (a shipped char-rnn and its loader).

``import course_lib`` loads nothing but this docstring. A top-level module or folder
(``course_lib.rnn``, ``course_lib.training``) is imported the first time it is used as
an attribute; a module inside a folder is imported by name, as usual
(``from course_lib.training.metrics import perplexity``). Importing any part of the
package never downloads anything and changes no process-wide state.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "activations", "losses", "layers", "rnn", "lstm", "gru", "birnn", "optim", "gradcheck",
    "cells", "models", "sampling", "schedules", "minchar", "surfaces",
    "data", "training", "notebook", "exercises", "cli", "pretrained",
}


def __getattr__(name):
    """``course_lib.rnn`` and the like: import the submodule on first use (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
