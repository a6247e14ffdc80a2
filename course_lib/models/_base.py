"""What both models share: building from a config, dropout's checks, one layer's weights."""

import inspect

import numpy as np

from ..cells import CELLS, get_cell


def layer_weights(params, prefix, cell):
    """``{"Wx": params[prefix + "Wx"], ...}``: the arrays themselves, never copies."""
    return {name: params[prefix + name] for name in CELLS[cell].weights}


def check_dropout_rng(dropout, train, rng):
    """Fail before any work if dropout is active and there is no generator to draw from."""
    if train and dropout > 0 and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: dropout={dropout} with train=True needs an np.random.Generator, "
                         f"got {type(rng).__name__}")


def check_cell_and_dropout(cell, dropout):
    get_cell(cell)
    if not 0 <= dropout < 1:  # also refuses NaN
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")


class Model:
    """What both models share: building a fresh model from a ``config`` dict."""

    @classmethod
    def from_config(cls, config, *, dtype=np.float32):
        """The same architecture, freshly initialised (``seed=0``), from ``model.config``.

        Args:
            config: a dict like ``model.config``; its ``"model"`` names this class.
            dtype: keyword-only; of the parameters; default ``np.float32``.

        Returns:
            A new model of this class.

        Raises:
            ValueError: ``config`` names another model, its keys are not this class's
                arguments, or the constructor refuses a value.
        """
        config = dict(config)
        model = config.pop("model", None)
        if model != cls.__name__:
            raise ValueError(f"config: expected 'model': {cls.__name__!r}, got {model!r}")
        expected = set(inspect.signature(cls).parameters) - {"seed", "dtype"}
        if set(config) != expected:
            raise ValueError(f"config: expected the keys {sorted(expected)}, got {sorted(config)}")
        return cls(**config, dtype=dtype)
