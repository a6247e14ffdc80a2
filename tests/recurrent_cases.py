"""Shared description of the three recurrent cells, for tests written once per property.

Each ``Cell`` in ``CELLS`` says, from ``docs/kernel-contract.md``: where its step and
sequence kernels live, the names and shapes of its weight arguments given ``D`` and
``H``, which ``torch.nn`` module it equals and how its weights map onto that module's.
The helpers below give every kernel one calling convention, so that a test can say
"for every cell, for step and for sequence kernels":

- inputs are a dict ``{argument name: array}`` in the forward's argument order
  (``x, h_prev[, c_prev], Wx, Wh, b`` for a step, ``x, h0, Wx, Wh, b`` for a sequence;
  an LSTM sequence may carry ``c0``, passed as the keyword it is);
- ``forward(cell, mode, inputs) -> (outs, cache)`` with ``outs`` a tuple
  (``(h_next,)``, ``(h_next, c_next)`` for an LSTM step, ``(h,)`` for a sequence);
- ``backward(cell, mode, douts, cache) -> {argument name: gradient}``, the kernel's
  returned tuple matched to the forward's arguments in order (contract: "returns the
  gradients in the order of the forward's inputs").

Nothing here imports a kernel module at import time, so the suite collects (and fails
per test, loudly) while a module is missing.
"""

import importlib
import re
from dataclasses import dataclass

import numpy as np
import pytest

from course_lib.gradcheck import numerical_gradient, rel_error

MODES = ("step", "seq")

# Agreement with PyTorch: combined absolute/relative tolerance, elementwise
# |ours - torch| <= TOL * (1 + |torch|)  (np.testing.assert_allclose(rtol=TOL, atol=TOL)).
TORCH_TOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}

# Gradient checks (course_lib.gradcheck.rel_error, float64).
GRADCHECK_TOL_FIXED = 1e-7
GRADCHECK_TOL_PROPERTY = 1e-6


@dataclass(frozen=True)
class Cell:
    name: str  # "rnn", "lstm", "gru": also the birnn `cell` argument and module name
    gates: int  # blocks along the gate axis: Wx is (D, gates * H)
    bias_names: tuple  # ("b",) or ("bx", "bh")
    has_c: bool  # LSTM: a cell state beside the hidden state
    torch_name: str  # torch.nn class
    torch_kwargs: tuple = ()

    # -- names -----------------------------------------------------------------------
    @property
    def param_names(self):
        return ("Wx", "Wh") + self.bias_names

    def input_names(self, mode):
        """The forward's positional argument names, in order."""
        if mode == "step":
            return ("x", "h_prev") + (("c_prev",) if self.has_c else ()) + self.param_names
        return ("x", "h0") + self.param_names

    def grad_names(self, mode):
        """Argument names the backward's returned gradients belong to, in order."""
        return self.input_names(mode)  # lstm_backward returns no dc0: c0 is keyword-only

    def state_names(self, mode):
        if mode == "step":
            return ("h_prev", "c_prev") if self.has_c else ("h_prev",)
        return ("h0", "c0") if self.has_c else ("h0",)

    # -- shapes ------------------------------------------------------------------------
    def param_shapes(self, D, H):
        G = self.gates * H
        shapes = {"Wx": (D, G), "Wh": (H, G)}
        for b in self.bias_names:
            shapes[b] = (G,)
        return shapes

    # -- kernels -----------------------------------------------------------------------
    @property
    def module(self):
        return importlib.import_module(f"course_lib.{self.name}")

    def fn(self, kind):
        """kind: step_forward, step_backward, forward, backward."""
        return getattr(self.module, f"{self.name}_{kind}")

    def __repr__(self):  # short pytest ids
        return self.name


CELLS = (
    Cell("rnn", 1, ("b",), False, "RNN", (("nonlinearity", "tanh"),)),
    Cell("lstm", 4, ("b",), True, "LSTM"),
    Cell("gru", 3, ("bx", "bh"), False, "GRU"),
)
CELL_BY_NAME = {c.name: c for c in CELLS}

cell_params = pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.name)
mode_params = pytest.mark.parametrize("mode", MODES)
dtype_params = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])


# ---------------------------------------------------------------------------------------
# Building inputs
# ---------------------------------------------------------------------------------------
def make_params(cell, D, H, rng, dtype=np.float64, scale=0.5):
    return {
        name: (scale * rng.standard_normal(shape)).astype(dtype)
        for name, shape in cell.param_shapes(D, H).items()
    }


def make_inputs(cell, mode, N, T, D, H, rng, dtype=np.float64, *, zero_state=False, c0=None,
                scale=0.5):
    """Inputs dict for ``forward(cell, mode, ...)``.

    A step ignores T. For an LSTM sequence ``c0`` is included when ``c0`` is True (random,
    or zero with ``zero_state``), left out when False, and by default included whenever
    the state is nonzero.
    """
    def state():
        if zero_state:
            return np.zeros((N, H), dtype=dtype)
        return rng.standard_normal((N, H)).astype(dtype)

    inputs = {}
    if mode == "step":
        inputs["x"] = rng.standard_normal((N, D)).astype(dtype)
        inputs["h_prev"] = state()
        if cell.has_c:
            inputs["c_prev"] = state()
    else:
        inputs["x"] = rng.standard_normal((N, T, D)).astype(dtype)
        inputs["h0"] = state()
    inputs.update(make_params(cell, D, H, rng, dtype, scale))
    if mode == "seq" and cell.has_c and (c0 if c0 is not None else not zero_state):
        inputs["c0"] = state()
    return inputs


def out_shapes(cell, mode, N, T, H):
    if mode == "step":
        return ((N, H), (N, H)) if cell.has_c else ((N, H),)
    return ((N, T, H),)


def make_douts(cell, mode, N, T, H, rng, dtype=np.float64):
    return tuple(rng.standard_normal(s).astype(dtype) for s in out_shapes(cell, mode, N, T, H))


def dims_of(cell, mode, inputs):
    """(N, T, D, H) read back from an inputs dict (T = 1 for a step)."""
    x = inputs["x"]
    N, D = x.shape[0], x.shape[-1]
    T = x.shape[1] if mode == "seq" else 1
    H = inputs["Wh"].shape[0]
    return N, T, D, H


def copy_inputs(inputs):
    return {k: np.array(v, copy=True) for k, v in inputs.items()}


# ---------------------------------------------------------------------------------------
# One calling convention for every kernel
# ---------------------------------------------------------------------------------------
def forward(cell, mode, inputs):
    """Run a forward kernel on an inputs dict; returns (outs tuple, cache)."""
    args = [inputs[n] for n in cell.input_names(mode)]
    if mode == "step":
        res = cell.fn("step_forward")(*args)
    else:
        kwargs = {"c0": inputs["c0"]} if "c0" in inputs else {}
        res = cell.fn("forward")(*args, **kwargs)
    assert isinstance(res, tuple), f"{cell.name} {mode} forward must return a tuple"
    n_out = 2 if (cell.has_c and mode == "step") else 1
    assert len(res) == n_out + 1, f"{cell.name} {mode} forward returned {len(res)} values"
    return tuple(res[:-1]), res[-1]


def backward(cell, mode, douts, cache):
    """Run a backward kernel; returns {forward argument name: gradient}."""
    if mode == "step":
        res = cell.fn("step_backward")(*douts, cache)
    else:
        (dh,) = douts
        res = cell.fn("backward")(dh, cache)
    names = cell.grad_names(mode)
    assert isinstance(res, tuple) and len(res) == len(names), (
        f"{cell.name} {mode} backward must return {len(names)} gradients {names}, "
        f"got {type(res).__name__} of length {len(res) if isinstance(res, tuple) else '?'}")
    return dict(zip(names, res))


def objective(outs, douts):
    """sum(out * dout) over every output: the scalar whose gradient the backward returns."""
    return sum(float(np.sum(o * d)) for o, d in zip(outs, douts))


def numerical_grad(f, x, h=1e-3):
    """Central differences from course_lib.gradcheck (``f(x)``, as there), Richardson-extrapolated.

    ``(4 D(h) - D(2h)) / 3`` cancels the O(h^2) error term of the central difference
    ``D``, leaving O(h^4); so h can be 1e-3, where the roundoff in ``f`` costs ~1e-13
    absolute instead of ~1e-11 at the plain h = 1e-5. That matters because rel_error is
    elementwise: a correct gradient entry of size 1e-5 (a saturated gate) fails a 1e-7
    bound on roundoff alone with the plain difference (seen here about once in 40
    random arrays), and never came close with this one.
    """
    return (4 * numerical_gradient(f, x, h=h) - numerical_gradient(f, x, h=2 * h)) / 3


def check_numerical_gradients(cell, mode, inputs, douts, tol):
    """Every backward output against central differences of sum(forward(...) * dout)."""
    outs, cache = forward(cell, mode, inputs)
    grads = backward(cell, mode, douts, cache)

    def f(_):  # the perturbed array is one of inputs' values: read them all
        return objective(forward(cell, mode, inputs)[0], douts)

    errors = {}
    for name, g in grads.items():
        num = numerical_grad(f, inputs[name])
        assert g.shape == inputs[name].shape, f"d{name}: shape {g.shape} != {inputs[name].shape}"
        errors[name] = rel_error(g, num)
    bad = {k: e for k, e in errors.items() if not e < tol}
    assert not bad, f"{cell.name} {mode}: rel errors above {tol}: {bad} (all: {errors})"
    return errors


# ---------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------
def assert_close(actual, expected, tol, what=""):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=tol, atol=tol,
                               err_msg=what)


def assert_dicts_close(actual, expected, tol, what=""):
    assert set(actual) == set(expected), f"{what}: keys {sorted(actual)} != {sorted(expected)}"
    for k in expected:
        assert_close(actual[k], expected[k], tol, f"{what} [{k}]")


def name_pattern(name):
    """Regex matching ``name`` as a whole word (so "x" does not match inside "Wx")."""
    return rf"(?<![\w]){re.escape(name)}(?![\w])"


def assert_shape_error(call, name, got, expected=None):
    """``call()`` raises ValueError naming ``name`` and giving the actual (and expected) shape."""
    with pytest.raises(ValueError, match=name_pattern(name)) as info:
        call()
    msg = str(info.value)
    assert str(tuple(got)) in msg, f"message does not give the actual shape {tuple(got)}: {msg!r}"
    if expected is not None:
        assert str(tuple(expected)) in msg, (
            f"message does not give the expected shape {tuple(expected)}: {msg!r}")


# ---------------------------------------------------------------------------------------
# Non-contiguous copies holding the same values
# ---------------------------------------------------------------------------------------
NONCONTIGUOUS_KINDS = ("fortran", "strided", "transposed", "reversed")


def noncontiguous(a, kind):
    """Same values as ``a``, in a non-C-contiguous layout (for ndim >= 2, or any strided)."""
    a = np.asarray(a)
    if kind == "fortran":
        return np.asfortranarray(a)
    if kind == "strided":  # every other element of a NaN-filled buffer: reading it poisons
        big = np.full(tuple(2 * s for s in a.shape), np.nan, dtype=a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if kind == "transposed":  # a transpose view; for 3-D the time-major (T, N, D) storage
        if a.ndim == 3:
            return np.ascontiguousarray(a.swapaxes(0, 1)).swapaxes(0, 1)
        return np.ascontiguousarray(a.T).T
    if kind == "reversed":  # negative strides on axis 0
        return np.ascontiguousarray(a[::-1]).copy()[::-1]
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------
# PyTorch oracle
# ---------------------------------------------------------------------------------------
def torch_dtype(torch, dtype):
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]


def make_torch_module(torch, cell, input_size, H, dtype, weights):
    """A torch.nn.{RNN,LSTM,GRU}(batch_first=True) holding our weights.

    ``weights`` maps torch's parameter suffix ("l0", "l1", "l0_reverse", ...) to one of
    our params dicts; per the contract Wx = weight_ih.T, Wh = weight_hh.T, and
    b = bias_ih + bias_hh (we put b in bias_ih and zero in bias_hh), or bx = bias_ih,
    bh = bias_hh for the GRU.
    """
    layers = {int(re.match(r"l(\d+)", s).group(1)) for s in weights}
    bidirectional = any(s.endswith("_reverse") for s in weights)
    mod = getattr(torch.nn, cell.torch_name)(
        input_size, H, num_layers=len(layers), batch_first=True, bidirectional=bidirectional,
        dtype=torch_dtype(torch, dtype), **dict(cell.torch_kwargs))
    assert len(list(mod.parameters())) == 4 * len(weights)
    with torch.no_grad():
        for sfx, p in weights.items():
            getattr(mod, f"weight_ih_{sfx}").copy_(torch.from_numpy(np.ascontiguousarray(p["Wx"].T)))
            getattr(mod, f"weight_hh_{sfx}").copy_(torch.from_numpy(np.ascontiguousarray(p["Wh"].T)))
            if "b" in p:
                getattr(mod, f"bias_ih_{sfx}").copy_(torch.from_numpy(p["b"]))
                getattr(mod, f"bias_hh_{sfx}").zero_()
            else:
                getattr(mod, f"bias_ih_{sfx}").copy_(torch.from_numpy(p["bx"]))
                getattr(mod, f"bias_hh_{sfx}").copy_(torch.from_numpy(p["bh"]))
    return mod


def torch_param_grads(cell, mod, sfx):
    """Gradients of torch's parameters with suffix ``sfx``, in our names and layout."""
    g = lambda n: getattr(mod, f"{n}_{sfx}").grad.detach().numpy()
    grads = {"Wx": g("weight_ih").T, "Wh": g("weight_hh").T}
    if cell.bias_names == ("b",):
        # b = bias_ih + bias_hh, so db = dbias_ih = dbias_hh (torch sums each separately)
        tol = 1e-12 if g("bias_ih").dtype == np.float64 else 1e-5
        np.testing.assert_allclose(g("bias_ih"), g("bias_hh"), rtol=tol, atol=tol)
        grads["b"] = g("bias_ih")
    else:
        grads["bx"], grads["bh"] = g("bias_ih"), g("bias_hh")
    return grads


def torch_sequence(torch, cell, x, layers, h0=None, c0=None, dh=None, dh_n=None, dc_n=None):
    """Run torch on a (stack of) unidirectional layer(s).

    ``layers``: list of params dicts, one per layer; ``h0``/``c0``: (L, N, H) or None.
    Backward on sum(out * dh) + sum(h_n * dh_n) + sum(c_n * dc_n) (terms with None
    left out). Returns a dict: "h" (N, T, H) output, "h_n", "c_n" (L, N, H), and if a
    gradient was requested "x", "h0", "c0" gradients and "params" (list of dicts).
    """
    dtype = x.dtype
    H = layers[0]["Wh"].shape[0]
    mod = make_torch_module(torch, cell, x.shape[-1], H, dtype,
                            {f"l{i}": p for i, p in enumerate(layers)})
    xt = torch.tensor(x, requires_grad=True)
    state_t = {}
    for key, s in (("h0", h0), ("c0", c0)):
        if s is not None:
            state_t[key] = torch.tensor(s, requires_grad=True)
    if cell.has_c:
        L, N = len(layers), x.shape[0]
        zeros = lambda: torch.zeros((L, N, H), dtype=torch_dtype(torch, dtype))
        hx = (state_t.get("h0", zeros()), state_t.get("c0", zeros()))
    else:
        hx = state_t.get("h0")
    out, hn = mod(xt, hx)
    h_n, c_n = hn if cell.has_c else (hn, None)
    res = {"h": out.detach().numpy(), "h_n": h_n.detach().numpy()}
    if c_n is not None:
        res["c_n"] = c_n.detach().numpy()
    terms = [(out, dh), (h_n, dh_n), (c_n, dc_n)]
    terms = [(t, torch.from_numpy(np.ascontiguousarray(d))) for t, d in terms if d is not None]
    if terms:
        sum((t * d).sum() for t, d in terms).backward()
        res["x"] = xt.grad.numpy()
        for key, t in state_t.items():
            res[key] = t.grad.numpy()
        res["params"] = [torch_param_grads(cell, mod, f"l{i}") for i in range(len(layers))]
    return res


def torch_bidirectional(torch, cell, x, params_fw, params_bw, dout, lengths=None):
    """torch bidirectional (packed when ``lengths``): (out (N,T,2H), dx, grads_fw, grads_bw)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    T = x.shape[1]
    H = params_fw["Wh"].shape[0]
    mod = make_torch_module(torch, cell, x.shape[-1], H, x.dtype,
                            {"l0": params_fw, "l0_reverse": params_bw})
    xt = torch.tensor(x, requires_grad=True)
    if lengths is None:
        out, _ = mod(xt)
    else:
        packed = pack_padded_sequence(xt, torch.as_tensor(np.asarray(lengths), dtype=torch.int64),
                                      batch_first=True, enforce_sorted=False)
        out_packed, _ = mod(packed)
        out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=T)
    (out * torch.from_numpy(np.ascontiguousarray(dout))).sum().backward()
    return (out.detach().numpy(), xt.grad.numpy(),
            torch_param_grads(cell, mod, "l0"), torch_param_grads(cell, mod, "l0_reverse"))
