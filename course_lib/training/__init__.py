"""Training and evaluating the course's models (plumbing built on the kernels).

- :mod:`.loop`: :func:`fit`, one training loop for every model, and its :class:`History`.
- :mod:`.tbptt`: :class:`TruncatedBPTT`, the batches and step function of a language
  model read as parallel streams.
- :mod:`.evaluate`: :func:`evaluate_lm`, :func:`evaluate_classifier`.
- :mod:`.metrics`: bits per character, perplexity, accuracy, smoothing a loss curve.
- :mod:`.checkpoints`: save and resume a run, loaded with ``allow_pickle=False``.
- :mod:`.parallel`: :class:`~.parallel.ShardedLoss`, one batch over the CPU's cores.
- :mod:`.minchar_loop`: min-char-rnn's own loop.

The names of the loop are here too, so ``from course_lib.training import fit`` works.
"""

from .evaluate import evaluate_classifier, evaluate_lm
from .loop import History, NonFiniteError, fit
from .tbptt import TruncatedBPTT

__all__ = ["History", "NonFiniteError", "TruncatedBPTT", "evaluate_classifier", "evaluate_lm", "fit"]
