"""course_lib: the NumPy library behind the RNN course.

Every kernel the notebooks derive lives here once; the notebooks name which module
holds what they just explained. Importing the package never downloads anything.

Kernels (contract: ``shared/docs/kernel-contract.md``): :mod:`activations`,
:mod:`losses`, :mod:`layers`, :mod:`rnn`, :mod:`lstm`, :mod:`gru`, :mod:`birnn`,
:mod:`optim`, :mod:`gradcheck`. Data: :mod:`datasets`, :mod:`vocab`, :mod:`batching`.
The notebooks' switches: :mod:`config`.
"""

from . import (
    activations,
    batching,
    birnn,
    config,
    datasets,
    gradcheck,
    gru,
    layers,
    losses,
    lstm,
    optim,
    rnn,
    vocab,
)

__version__ = "0.1.0"
