"""Tests for course_lib.optim: step-for-step parity with torch.optim, state, clipping."""

import copy
import tracemalloc

import numpy as np
import pytest

from course_lib import optim
from course_lib.optim import clip_grad_norm, clip_grad_value

pytestmark = pytest.mark.filterwarnings("error")

SHAPES = {"W": (3, 4), "b": (4,), "s": (1,), "T": (2, 1, 3)}
STEPS = 20
FLOATS = [np.float64, np.float32]


def _configs():
    """(class name, kwargs): every option combination the signatures allow."""
    configs = []
    for momentum in (0.0, 0.9):
        for nesterov in (False, True) if momentum else (False,):
            for weight_decay in (0.0, 0.05):
                kwargs = dict(lr=0.1, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
                configs.append(("SGD", kwargs))
    configs += [("Adagrad", {}), ("Adagrad", dict(lr=0.1, eps=1e-3))]
    for momentum in (0.0, 0.9):
        configs.append(("RMSprop", dict(momentum=momentum)))
        configs.append(("RMSprop", dict(lr=0.05, alpha=0.9, eps=1e-3, momentum=momentum)))
    for weight_decay in (0.0, 0.1):
        configs.append(("Adam", dict(weight_decay=weight_decay)))
        configs.append(("Adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=weight_decay)))
    return configs


CONFIGS = _configs()
CONFIG_IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]


def make_params(rng, dtype):
    return {name: rng.standard_normal(shape).astype(dtype) for name, shape in SHAPES.items()}


def make_grads(rng, dtype, steps=STEPS):
    # A scale that changes over time, so the running averages have something to follow.
    return [
        {name: (rng.standard_normal(shape) * (1 + t % 3)).astype(dtype) for name, shape in SHAPES.items()}
        for t in range(steps)
    ]


def copy_arrays(d):
    return {k: np.array(v, copy=True) for k, v in d.items()}


def run(opt, grads_seq):
    for grads in grads_seq:
        opt.step(grads)


# --- parity with torch.optim -------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_step_for_step(torch, rng, name, kwargs, dtype):
    params = make_params(rng, dtype)
    grads_seq = make_grads(rng, dtype)
    t_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    t_opt = getattr(torch.optim, name)(list(t_params.values()), **kwargs)
    opt = getattr(optim, name)(params, **kwargs)
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (1e-4, 1e-6)
    for step, grads in enumerate(grads_seq):
        opt.step(grads)
        for k, tp in t_params.items():
            tp.grad = torch.tensor(grads[k])
        t_opt.step()
        for k, tp in t_params.items():
            assert params[k].dtype == dtype
            np.testing.assert_allclose(
                params[k], tp.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{k} after step {step + 1}"
            )


def test_first_steps_by_hand():
    # SGD momentum starts its buffer at the first gradient (torch), not at 0.
    p = {"w": np.array([1.0])}
    opt = optim.SGD(p, lr=0.1, momentum=0.9)
    opt.step({"w": np.array([1.0])})
    assert p["w"][0] == pytest.approx(1.0 - 0.1 * 1.0)
    opt.step({"w": np.array([1.0])})
    assert p["w"][0] == pytest.approx(0.9 - 0.1 * 1.9)
    # Adam's first step moves every entry by about lr, whatever the gradient's scale.
    p = {"w": np.array([0.0, 0.0])}
    optim.Adam(p, lr=0.01).step({"w": np.array([1e-3, -1e3])})
    np.testing.assert_allclose(p["w"], [-0.01, 0.01], rtol=1e-4)
    # RMSprop: eps is added outside the square root.
    p = {"w": np.array([0.0])}
    optim.RMSprop(p, lr=1.0, alpha=0.0, eps=0.5).step({"w": np.array([4.0])})
    assert p["w"][0] == pytest.approx(-4.0 / (4.0 + 0.5))
    # Adagrad: eps outside the square root too.
    p = {"w": np.array([0.0])}
    optim.Adagrad(p, lr=1.0, eps=0.5).step({"w": np.array([4.0])})
    assert p["w"][0] == pytest.approx(-4.0 / (4.0 + 0.5))


# --- the contract of step() --------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_step_updates_in_place_and_leaves_grads_alone(rng, name, kwargs, dtype):
    params = make_params(rng, dtype)
    originals = dict(params)
    before = copy_arrays(params)
    opt = getattr(optim, name)(params, **kwargs)
    for grads in make_grads(rng, dtype, steps=3):
        grads_copy = copy_arrays(grads)
        opt.step(grads)
        for k in grads:
            np.testing.assert_array_equal(grads[k], grads_copy[k])
    for k, p in params.items():
        assert p is originals[k]
        assert p.dtype == dtype
        assert not np.array_equal(p, before[k])
    for key, buf in opt.state.items():
        assert buf.dtype == dtype, key


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_float64_grads_keep_float32_params_float32(rng, name, kwargs):
    params = make_params(rng, np.float32)
    opt = getattr(optim, name)(params, **kwargs)
    run(opt, make_grads(rng, np.float64, steps=2))
    for p in params.values():
        assert p.dtype == np.float32


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_non_contiguous_params_and_grads_give_the_same_results(rng, name, kwargs):
    params = make_params(rng, np.float64)
    grads_seq = make_grads(rng, np.float64, steps=5)
    params_f = {k: np.asfortranarray(v) for k, v in params.items()}
    params_f["W"] = params["W"].T.copy().T  # a transposed view as a parameter
    grads_f = [{k: np.repeat(v, 2, axis=-1)[..., ::2] for k, v in g.items()} for g in grads_seq]
    assert not params_f["W"].flags.c_contiguous and not grads_f[0]["W"].flags.c_contiguous
    run(getattr(optim, name)(params, **kwargs), grads_seq)
    run(getattr(optim, name)(params_f, **kwargs), grads_f)
    for k in params:
        np.testing.assert_allclose(params_f[k], params[k], rtol=1e-14, atol=1e-15)


def test_missing_extra_and_misshaped_grads_name_the_key(rng):
    params = make_params(rng, np.float64)
    before = copy_arrays(params)
    opt = optim.Adam(params)
    good = make_grads(rng, np.float64, steps=1)[0]
    missing = {k: v for k, v in good.items() if k != "b"}
    with pytest.raises(ValueError, match="'b'"):
        opt.step(missing)
    with pytest.raises(ValueError, match="'extra'"):
        opt.step({**good, "extra": np.zeros(2)})
    # shapes NumPy would broadcast are refused too
    for key, bad_shape in [("W", (4,)), ("W", (1, 4)), ("b", (1, 4)), ("s", ()), ("T", (2, 3))]:
        bad = {**good, key: np.zeros(bad_shape)}
        expected = rf"grads\['{key}'\]: expected shape {_re(SHAPES[key])}, got {_re(bad_shape)}"
        with pytest.raises(ValueError, match=expected):
            opt.step(bad)
    with pytest.raises(ValueError, match=r"grads\['W'\]: expected a floating"):
        opt.step({**good, "W": np.zeros((3, 4), dtype=int)})
    with pytest.raises(ValueError, match="grads: expected a dict"):
        opt.step(list(good.values()))
    # a refused step changes nothing
    assert opt.step_count == 0
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    assert all(np.all(buf == 0) for buf in opt.state.values())


def _re(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "params: got an empty dict"),
        ([np.zeros(3)], "params: expected a dict"),
        ({"W": [1.0, 2.0]}, r"params\['W'\]: expected a floating-point np.ndarray, got list"),
        ({"W": np.zeros(3, dtype=int)}, r"params\['W'\]: expected a floating-point np.ndarray, got int64"),
        ({0: np.zeros(3)}, "params: keys must be str"),
    ],
)
def test_bad_params_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD(params, lr=0.1)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.SGD(p, lr=-0.1), "lr"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1.0), "weight_decay"),
        (lambda p: optim.Adagrad(p, eps=-1.0), "eps"),
        (lambda p: optim.RMSprop(p, alpha=-0.1), "alpha"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda p: optim.Adam(p, lr=float("nan")), "lr"),
    ],
)
def test_bad_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make({"w": np.zeros(2)})


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_step_does_not_allocate_much(name, kwargs):
    n = 1_000_000  # 8 MB per float64 array
    params = {"w": np.ones(n)}
    grads = {"w": np.full(n, 0.5)}
    opt = getattr(optim, name)(params, **kwargs)
    opt.step(grads)  # warm up
    tracemalloc.start()
    try:
        opt.step(grads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a few temporaries of the parameter's size at most, never a copy of the state
    assert peak < 3.5 * params["w"].nbytes


# --- state_dict / load_state_dict --------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 7])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip_continues_bitwise(rng, name, kwargs, dtype, k):
    cls = getattr(optim, name)
    params = make_params(rng, dtype)
    grads_seq = make_grads(rng, dtype, steps=k + 6)
    opt = cls(params, **kwargs)
    run(opt, grads_seq[:k])
    snapshot = opt.state_dict()
    saved = copy.deepcopy(snapshot)
    resumed_params = copy_arrays(params)

    run(opt, grads_seq[k:])  # the uninterrupted run
    for key in saved:  # later steps do not change the snapshot
        np.testing.assert_array_equal(snapshot[key], saved[key])

    fresh = cls(resumed_params, **kwargs)
    fresh.load_state_dict(snapshot)
    assert fresh.step_count == k
    run(fresh, grads_seq[k:])
    for key in params:
        np.testing.assert_array_equal(resumed_params[key], params[key])
        assert resumed_params[key].dtype == dtype
    for key in saved:  # nor do the steps of an optimizer it was loaded into
        np.testing.assert_array_equal(snapshot[key], saved[key])
    assert fresh.state_dict().keys() == opt.state_dict().keys()
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, opt.state_dict()[key])


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_is_flat_and_survives_an_npz_checkpoint(tmp_path, rng, name, kwargs):
    cls = getattr(optim, name)
    params = make_params(rng, np.float32)
    grads_seq = make_grads(rng, np.float32, steps=8)
    opt = cls(params, **kwargs)
    run(opt, grads_seq[:3])
    snapshot = opt.state_dict()
    assert snapshot["step"] == 3 and type(snapshot["step"]) is int
    for key, value in snapshot.items():
        assert isinstance(key, str)
        assert isinstance(value, (np.ndarray, int, float)) and not isinstance(value, bool), key
    for key, value in opt.state.items():
        assert not np.shares_memory(snapshot[key], value)

    path = tmp_path / "ckpt.npz"
    np.savez(path, **snapshot)
    resumed_params = copy_arrays(params)
    fresh = cls(resumed_params, **kwargs)
    with np.load(path, allow_pickle=False) as loaded:
        fresh.load_state_dict(loaded)
    run(opt, grads_seq[3:])
    run(fresh, grads_seq[3:])
    for key in params:
        np.testing.assert_array_equal(resumed_params[key], params[key])
        assert resumed_params[key].dtype == np.float32


def test_load_state_dict_refuses_a_mismatch_and_changes_nothing(rng):
    params = make_params(rng, np.float64)
    adam = optim.Adam(params)
    run(adam, make_grads(rng, np.float64, steps=2))
    good = adam.state_dict()

    fresh = optim.Adam(copy_arrays(params))
    before = fresh.state_dict()
    bad_cases = [
        ({k: v for k, v in good.items() if k != "exp_avg/W"}, r"missing keys \['exp_avg/W'\]"),
        ({k: v for k, v in good.items() if k != "step"}, r"missing keys \['step'\]"),
        ({**good, "exp_avg/X": np.zeros(2)}, r"unexpected keys \['exp_avg/X'\]"),
        (optim.SGD(copy_arrays(params), lr=0.1, momentum=0.9).state_dict(), "missing keys"),
        ({**good, "exp_avg/W": np.zeros((4, 3))}, r"'exp_avg/W'\]: expected shape \(3, 4\), got \(4, 3\)"),
        ({**good, "exp_avg_sq/b": np.zeros((1, 4))}, r"'exp_avg_sq/b'\]: expected shape \(4,\), got \(1, 4\)"),
        ({**good, "step": 2.5}, r"state\['step'\]: expected an integer"),
        ({**good, "step": -1}, r"state\['step'\]: expected an integer >= 0"),
    ]
    for bad, message in bad_cases:
        with pytest.raises(ValueError, match=message):
            fresh.load_state_dict(bad)
        after = fresh.state_dict()
        assert after["step"] == 0
        for key in before:
            np.testing.assert_array_equal(after[key], before[key])

    other = optim.Adam({"W": np.zeros((3, 4))})  # different parameter names
    with pytest.raises(ValueError, match="does not match"):
        other.load_state_dict(good)


# --- clipping ----------------------------------------------------------------------


def _torch_clip_norm(torch, grads, max_norm):
    tensors = []
    for g in grads.values():
        t = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
        t.grad = torch.tensor(g)
        tensors.append(t)
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    return float(total), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("max_norm", [0.5, 1e6], ids=["clips", "does-not-clip"])
def test_clip_grad_norm_matches_torch(torch, rng, dtype, max_norm):
    grads = make_grads(rng, dtype, steps=1)[0]
    originals = dict(grads)
    before = copy_arrays(grads)
    t_total, t_grads = _torch_clip_norm(torch, grads, max_norm)
    total = clip_grad_norm(grads, max_norm)
    assert type(total) is float
    expected_total = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in before.values()))
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert total == pytest.approx(expected_total, rel=rtol)
    assert total == pytest.approx(t_total, rel=rtol)
    for (k, g), tg in zip(grads.items(), t_grads):
        assert g is originals[k]  # in place
        assert g.dtype == dtype
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=1e-30)
    if max_norm < total:
        clipped = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values()))
        assert clipped == pytest.approx(max_norm, rel=1e-5)
    else:
        for k in grads:
            np.testing.assert_array_equal(grads[k], before[k])


def test_clip_grad_norm_works_on_views():
    grads = {"a": np.arange(12.0).reshape(3, 4).T, "b": np.arange(8.0)[::2]}  # a transpose, a strided slice
    expected = {k: v.copy() for k, v in grads.items()}
    total = clip_grad_norm(expected, 1.0)
    assert clip_grad_norm(grads, 1.0) == total
    for k in grads:
        np.testing.assert_allclose(grads[k], expected[k], rtol=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
def test_clip_grad_value_matches_torch(torch, rng, dtype):
    grads = make_grads(rng, dtype, steps=1)[0]
    originals = dict(grads)
    tensors = [torch.tensor(g) for g in grads.values()]
    for t in tensors:
        torch.clamp_(t, min=-0.7, max=0.7)  # what clip_grad_value_ does to each .grad
    clip_grad_value(grads, 0.7)
    for (k, g), t in zip(grads.items(), tensors):
        assert g is originals[k]
        assert g.dtype == dtype
        np.testing.assert_array_equal(g, t.numpy())
    assert max(np.max(np.abs(g)) for g in grads.values()) == pytest.approx(0.7)

    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    w.grad = torch.tensor([-2.0, 0.1, 5.0], dtype=torch.float64)
    torch.nn.utils.clip_grad_value_([w], 1.0)
    g = {"w": np.array([-2.0, 0.1, 5.0])}
    clip_grad_value(g, 1.0)
    np.testing.assert_array_equal(g["w"], w.grad.numpy())


@pytest.mark.parametrize("clip", [clip_grad_norm, clip_grad_value])
def test_clipping_refuses_non_arrays(clip):
    with pytest.raises(ValueError, match=r"grads\['w'\]"):
        clip({"w": [1.0, 2.0]}, 1.0)


@pytest.mark.parametrize("bad", [np.complex128, np.str_, object])
def test_load_state_dict_refuses_a_non_real_buffer_before_changing_anything(bad):
    params = {"w": np.ones(3)}
    opt = optim.Adam(params, lr=0.1)
    opt.step({"w": np.ones(3)})
    saved = opt.state_dict()
    state = dict(saved, step=np.int64(7))
    key = next(k for k in state if k != "step")
    state[key] = np.zeros(3, dtype=bad)
    with pytest.raises(ValueError, match=rf"state\['{key}'\]: expected real numbers"):
        opt.load_state_dict(state)
    assert opt.step_count == 1
    for k, v in opt.state_dict().items():
        np.testing.assert_array_equal(v, saved[k])
