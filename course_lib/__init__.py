"""course_lib: the NumPy library behind the RNN course.

Every kernel the notebooks derive lives here once; the notebooks name which module
holds what they just explained. Importing the package never downloads anything.

Kernels (contract: ``shared/docs/kernel-contract.md``): :mod:`activations`,
:mod:`losses`, :mod:`layers`, :mod:`rnn`, :mod:`lstm`, :mod:`gru`, :mod:`birnn`,
:mod:`optim`, :mod:`gradcheck`. Data: :mod:`datasets`, :mod:`vocab`, :mod:`batching`.
Built on the kernels: :mod:`models`, :mod:`training`, :mod:`schedules`, :mod:`metrics`,
:mod:`sampling`, :mod:`checkpoints`, :mod:`parallel` (a batch over the CPU's cores);
Karpathy's min-char-rnn, faithfully: :mod:`minchar`. A shipped char-rnn: :mod:`pretrained`.
The command line (``python -m course_lib``): :mod:`cli`. The notebooks' switches: :mod:`config`.

At the edge, imported only by the notebooks that use them (they load matplotlib and
ipywidgets): :mod:`plots` (the course's figure style), :mod:`widgets`, :mod:`exercises`.
"""

from . import (
    activations,
    batching,
    birnn,
    checkpoints,
    config,
    datasets,
    gradcheck,
    gru,
    layers,
    losses,
    lstm,
    metrics,
    minchar,
    models,
    optim,
    parallel,
    pretrained,
    rnn,
    sampling,
    schedules,
    training,
    vocab,
)

from ._scratch import keep_freed_memory

keep_freed_memory()  # see its docstring: fresh arrays without a page fault per page

__version__ = "0.1.0"
