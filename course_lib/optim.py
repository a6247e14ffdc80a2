"""Optimizers and gradient clipping, step for step the same as ``torch.optim``.

Derived in ``notebooks/03_optimizers``. Parameters are a ``dict`` name -> NumPy array;
``opt.step(grads)`` takes the gradients as a dict with the same keys and shapes and
updates the parameter arrays **in place** (so a model holding those arrays sees the
change), leaving the gradients untouched. Updates keep the parameters' dtype.

The shared base class does the bookkeeping (checking the gradients, counting steps,
the per-parameter state arrays, ``state_dict`` / ``load_state_dict``); each subclass
only holds its update rule. ``state_dict()`` is a flat dict ``str -> np.ndarray or int``
(``"step"``, ``"exp_avg/Wx"``, ...), so a checkpoint can store it with ``np.savez``
and read it back with ``np.load(..., allow_pickle=False)``.

Notation in the comments: ``g`` gradient, ``p`` parameter, ``t`` step count (1 on the
first step), ``lr`` learning rate; operations on arrays are elementwise.
"""

import numpy as np

from ._checks import check_shape


def _check_float_arrays(what, arrays):
    """Raise unless ``arrays`` is a dict str -> floating np.ndarray."""
    if not isinstance(arrays, dict):
        raise ValueError(f"{what}: expected a dict of name -> np.ndarray, got {type(arrays).__name__}")
    for name, a in arrays.items():
        if not isinstance(name, str):
            raise ValueError(f"{what}: keys must be str, got {name!r}")
        # A real ndarray, because it is updated in place: a list would be silently copied.
        if not isinstance(a, np.ndarray) or not np.issubdtype(a.dtype, np.floating):
            kind = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
            raise ValueError(f"{what}[{name!r}]: expected a floating-point np.ndarray, got {kind}")


def _check_hyperparameters(**values):
    """Raise for a negative hyperparameter, as torch.optim does."""
    for name, value in values.items():
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"{name}: expected a value >= 0, got {value}")


class Optimizer:
    """Base class: parameter dict, step count and per-parameter state arrays.

    A subclass sets ``self.buffer_names`` (one zero-initialised array per parameter
    for each name) before calling ``super().__init__``, and defines
    ``_update(p, g, *buffers)``, which updates ``p`` and its buffers in place for the
    step number ``self.step_count``.

    Args:
        params: dict name -> floating np.ndarray of any shape, updated in place.
        lr: learning rate, a number >= 0.

    Raises:
        ValueError: ``params`` is not a non-empty dict of str -> floating-point np.ndarray,
            or ``lr`` is negative or NaN.

    Attributes:
        params: dict name -> array, the arrays given to the constructor (not copies).
        lr: float, the learning rate.
        step_count: int, number of steps taken.
        state: flat dict ``"buffer/name"`` -> array of that parameter's shape and dtype.
    """

    buffer_names = ()

    def __init__(self, params, lr):
        _check_float_arrays("params", params)
        if not params:
            raise ValueError("params: got an empty dict, there is nothing to optimize")
        _check_hyperparameters(lr=lr)
        self.params = dict(params)  # same arrays, but our own set of keys
        self.lr = float(lr)
        self.step_count = 0
        self.state = {
            f"{buf}/{name}": np.zeros_like(p) for buf in self.buffer_names for name, p in self.params.items()
        }

    def step(self, grads):
        """Take one step: update every parameter array in place from ``grads``.

        Args:
            grads: dict with exactly the keys of ``params``; ``grads[k]`` a floating array
                of exactly ``params[k].shape``. Left unchanged.

        Raises:
            ValueError: ``grads`` is not a dict, does not match ``params`` key for key,
                or a gradient has the wrong shape or is not floating-point; raised before
                anything is updated.
        """
        self._check_grads(grads)
        self.step_count += 1
        for name, p in self.params.items():
            buffers = [self.state[f"{buf}/{name}"] for buf in self.buffer_names]
            self._update(p, np.asarray(grads[name]), *buffers)

    def _update(self, p, g, *buffers):
        """The update rule.

        Args:
            p: a parameter array, updated in place.
            g: its gradient, the same shape, read only.
            *buffers: this parameter's state arrays, in the order of ``buffer_names``,
                the same shape, updated in place.
        """
        raise NotImplementedError

    def _check_grads(self, grads):
        """Raise, before anything is updated, unless grads matches params key for key."""
        if not isinstance(grads, dict):
            raise ValueError(f"grads: expected a dict of name -> np.ndarray, got {type(grads).__name__}")
        for name in self.params:
            if name not in grads:
                raise ValueError(f"grads: missing the gradient of parameter {name!r}")
        for name in grads:
            if name not in self.params:
                raise ValueError(f"grads: {name!r} is not a parameter of this optimizer")
        for name, p in self.params.items():
            g = np.asarray(grads[name])
            check_shape(f"grads[{name!r}]", g, p.shape)  # (n,) for an (m, n) param is an error
            if not np.issubdtype(g.dtype, np.floating):
                raise ValueError(f"grads[{name!r}]: expected a floating-point array, got dtype {g.dtype}")

    def state_dict(self):
        """A snapshot of the whole state: later steps do not change it.

        Returns:
            dict: ``"step"`` -> int, and ``"buffer/name"`` -> a copy of that state array.
        """
        snapshot = {"step": self.step_count}
        for key, buf in self.state.items():
            snapshot[key] = buf.copy()
        return snapshot

    def load_state_dict(self, state):
        """Restore a snapshot from ``state_dict()`` (also as read back from an .npz).

        The optimizer must have been built with the same hyperparameters and parameter
        names and shapes; it then continues exactly as the one that was saved would.

        Args:
            state: dict as returned by :meth:`state_dict`: ``"step"`` -> int (or a 0-d
                integer array) and ``"buffer/name"`` -> array of that buffer's shape.

        Raises:
            ValueError: ``state`` does not fit (missing or unexpected keys, ``"step"``
                not an integer >= 0, an array of the wrong shape, or one that is not
                real numbers); raised before changing anything.
        """
        missing = sorted((set(self.state) | {"step"}) - set(state))
        unexpected = sorted(set(state) - set(self.state) - {"step"})
        if missing or unexpected:
            raise ValueError(
                f"state: does not match this {type(self).__name__} and its params; "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        step = np.asarray(state["step"])  # an .npz gives a 0-d array
        if step.shape != () or not np.issubdtype(step.dtype, np.integer) or step < 0:
            raise ValueError(f"state['step']: expected an integer >= 0, got {state['step']!r}")
        for key, buf in self.state.items():
            check_shape(f"state[{key!r}]", state[key], buf.shape)
            kind = np.asarray(state[key]).dtype
            if not (np.issubdtype(kind, np.floating) or np.issubdtype(kind, np.integer)):
                raise ValueError(f"state[{key!r}]: expected real numbers, got dtype {kind}")
        self.step_count = int(step)
        for key, buf in self.state.items():
            np.copyto(buf, state[key])  # into our own arrays: the snapshot stays independent


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as ``torch.optim.SGD``.

    Args:
        params: dict name -> floating np.ndarray of any shape, updated in place.
        lr: learning rate (required, no default).
        momentum: mu; 0 (the default) disables the momentum buffer.
        nesterov: use Nesterov momentum (needs momentum > 0); default False.
        weight_decay: lambda of an L2 penalty, added to the gradient; default 0.

    Raises:
        ValueError: ``params`` is not a non-empty dict of str -> floating-point np.ndarray,
            a hyperparameter is out of range (negative or NaN), or ``nesterov`` is set
            with ``momentum`` 0.
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        _check_hyperparameters(momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum == 0:
            raise ValueError("nesterov: Nesterov momentum needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.buffer_names = ("momentum_buffer",) if momentum else ()
        super().__init__(params, lr)

    def _update(self, p, g, buf=None):
        if self.weight_decay:
            g = g + self.weight_decay * p  # g <- g + lambda p   (a new array: grads stay untouched)
        if self.momentum:
            # b_1 = g_1,  b_t = mu b_{t-1} + g_t.  torch starts the buffer at the first
            # gradient rather than at 0 (the same here, but not with its dampening option).
            if self.step_count == 1:
                np.copyto(buf, g)
            else:
                buf *= self.momentum
                buf += g
            # Nesterov: step along g_t + mu b_t (look ahead); classic: along b_t.
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g  # p <- p - lr g


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad`` with lr_decay=0, initial_accumulator_value=0.

    Both are torch's defaults; this class has no such options.

    Args:
        params: dict name -> floating np.ndarray of any shape, updated in place.
        lr: learning rate; default 1e-2.
        eps: added to the square root, to avoid dividing by 0; default 1e-10.

    Raises:
        ValueError: ``params`` is not a non-empty dict of str -> floating-point np.ndarray,
            or a hyperparameter is out of range (negative or NaN).
    """

    buffer_names = ("sum",)

    def __init__(self, params, lr=1e-2, eps=1e-10):
        _check_hyperparameters(eps=eps)
        self.eps = float(eps)
        super().__init__(params, lr)

    def _update(self, p, g, sum_sq):
        # G_t = G_{t-1} + g_t^2,   p <- p - lr g_t / (sqrt(G_t) + eps)
        sum_sq += g * g
        denom = np.sqrt(sum_sq)
        denom += self.eps
        p -= self.lr * g / denom


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (not centered): eps outside the square root.

    Args:
        params: dict name -> floating np.ndarray of any shape, updated in place.
        lr: learning rate; default 1e-2.
        alpha: decay rate of the running mean of g^2; default 0.99.
        eps: added to the square root, to avoid dividing by 0; default 1e-8.
        momentum: mu; 0 (the default) disables the momentum buffer.

    Raises:
        ValueError: ``params`` is not a non-empty dict of str -> floating-point np.ndarray,
            or a hyperparameter is out of range (negative or NaN).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0):
        _check_hyperparameters(alpha=alpha, eps=eps, momentum=momentum)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.buffer_names = ("square_avg", "momentum_buffer") if momentum else ("square_avg",)
        super().__init__(params, lr)

    def _update(self, p, g, square_avg, buf=None):
        # v_t = alpha v_{t-1} + (1 - alpha) g_t^2
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * g * g
        denom = np.sqrt(square_avg)
        denom += self.eps  # sqrt(v_t) + eps
        if self.momentum:
            # b_t = mu b_{t-1} + g_t / (sqrt(v_t) + eps),   p <- p - lr b_t   (b_0 = 0)
            buf *= self.momentum
            buf += g / denom
            p -= self.lr * buf
        else:
            p -= self.lr * g / denom  # p <- p - lr g_t / (sqrt(v_t) + eps)


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (weight_decay is an L2 term in the gradient, not AdamW).

    Args:
        params: dict name -> floating np.ndarray of any shape, updated in place.
        lr: learning rate; default 1e-3.
        betas: (beta1, beta2), decay rates of the running means of g and g^2, each in
            ``[0, 1)``; default (0.9, 0.999).
        eps: added to the square root, to avoid dividing by 0; default 1e-8.
        weight_decay: lambda of an L2 penalty, added to the gradient; default 0.

    Raises:
        ValueError: ``params`` is not a non-empty dict of str -> floating-point np.ndarray,
            a hyperparameter is out of range (negative or NaN), or a beta is outside
            ``[0, 1)``.
    """

    buffer_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        beta1, beta2 = betas
        _check_hyperparameters(eps=eps, weight_decay=weight_decay)
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name}: expected a value in [0, 1), got {beta}")
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        super().__init__(params, lr)

    def _update(self, p, g, exp_avg, exp_avg_sq):
        beta1, beta2 = self.betas
        t = self.step_count
        if self.weight_decay:
            g = g + self.weight_decay * p  # g <- g + lambda p
        # m_t = beta1 m_{t-1} + (1 - beta1) g_t,   v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        exp_avg *= beta1
        exp_avg += (1 - beta1) * g
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        # p <- p - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps):
        # the bias corrections undo the start at m_0 = v_0 = 0; eps sits where torch puts it.
        denom = np.sqrt(exp_avg_sq)
        denom /= (1 - beta2**t) ** 0.5
        denom += self.eps
        p -= (self.lr / (1 - beta1**t)) * exp_avg / denom


def global_norm(grads):
    """The L2 norm of all gradients together, as a float: what :func:`clip_grad_norm` returns.

    Args:
        grads: dict name -> floating np.ndarray of any shape.

    Returns:
        float: ``sqrt`` of the sum of squares of every entry; ``inf`` if an entry is
        infinite or the sum of squares overflows, ``nan`` if an entry is NaN (no warning:
        the caller decides what to do, e.g. :func:`course_lib.training.fit` names the culprit).
    """
    # The norm of the per-array norms is the norm of everything concatenated.
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.linalg.norm([np.linalg.norm(g) for g in grads.values()]))


def clip_grad_norm(grads, max_norm, *, total_norm=None):
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: every array is multiplied in place by
    ``min(1, max_norm / (total_norm + 1e-6))``, so the direction of the full gradient
    is kept.

    Args:
        grads: dict name -> floating np.ndarray of any shape, modified in place.
        max_norm: the largest global norm allowed.
        total_norm: keyword-only; the norm when the caller has computed it already
            (:func:`global_norm` of these same ``grads``), so it is not computed twice.
            None: computed here.

    Returns:
        total_norm: float, sqrt of the sum of squares of every entry, before clipping.

    Raises:
        ValueError: ``grads`` is not a dict of str -> floating-point np.ndarray.
    """
    _check_float_arrays("grads", grads)
    if total_norm is None:
        total_norm = global_norm(grads)
    scale = max_norm / (total_norm + 1e-6)
    if not scale >= 1:  # written so that a NaN scale (NaN norm) also applies, as in torch
        for g in grads.values():
            g *= scale
    return total_norm


def clip_grad_value(grads, clip_value):
    """Clip every gradient entry to ``[-clip_value, clip_value]``, in place.

    As ``torch.nn.utils.clip_grad_value_``.

    Args:
        grads: dict name -> floating np.ndarray of any shape, modified in place.
        clip_value: the largest absolute value allowed.

    Raises:
        ValueError: ``grads`` is not a dict of str -> floating-point np.ndarray.
    """
    _check_float_arrays("grads", grads)
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
