"""course_lib.models: CharRNN and SequenceClassifier.

The gradient checks are in float64 on the loss and use recurrent_cases.numerical_grad,
which is course_lib.gradcheck's central difference, Richardson-extrapolated. They
require rel_error < GRAD_TOL = 1e-6 for every parameter. rel_error is taken per element,
and an entry of size 1e-7 (which happens: a bias whose contributions almost cancel) is
off by about 1e-13 from roundoff alone. That is 5e-7 relative, so 1e-7 would be too
tight. A wrong gradient is off by 1e-2 or more. Agreement with PyTorch uses
recurrent_cases.TORCH_TOL: |ours - torch| <= 1e-9 * (1 + |torch|) in float64.
"""

import json
import math

import numpy as np
import pytest
from recurrent_cases import (
    CELL_BY_NAME,
    TORCH_TOL,
    assert_close,
    make_torch_module,
    numerical_grad,
    torch_param_grads,
)

from course_lib.gradcheck import rel_error
from course_lib.models import CharRNN, SequenceClassifier
from course_lib.optim import Adam

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
GRAD_TOL = 1e-6
TOL64 = TORCH_TOL[np.dtype(np.float64)]
V, N, T, H, E = 5, 2, 4, 3, 3  # small: a gradient check perturbs every parameter
D, C = 4, 3  # SequenceClassifier input width and classes

cell_params = pytest.mark.parametrize("cell", CELLS)


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
def char_data(seed, n=N, t=T, v=V):
    rng = np.random.default_rng(seed)
    return rng.integers(0, v, (n, t)), rng.integers(0, v, (n, t))


def random_state(model, n, seed):
    """A nonzero state of the model's form: list of h (N, H), or (h, c) for lstm."""
    rng = np.random.default_rng(seed)
    draw = lambda: 0.5 * rng.standard_normal((n, model.hidden_size))  # noqa: E731
    return [(draw(), draw()) if model.cell == "lstm" else draw() for _ in range(model.num_layers)]


def check_gradients(model, loss_fn):
    """Every parameter's analytic gradient against central differences of the loss."""
    grads = loss_fn()[1]
    assert list(grads) == list(model.params), "grads must be keyed exactly like params"
    errors = {}
    for name, p in model.params.items():
        assert grads[name].shape == p.shape and grads[name].dtype == p.dtype, name
        numeric = numerical_grad(lambda _: loss_fn()[0], p)  # perturbs model.params in place
        errors[name] = rel_error(grads[name], numeric)
    bad = {k: e for k, e in errors.items() if not e < GRAD_TOL}
    assert not bad, f"rel errors above {GRAD_TOL}: {bad}"


def states_equal(a, b, atol=0.0):
    """Two per-layer state lists hold the same arrays (to atol)."""
    for sa, sb in zip(a, b, strict=True):
        parts_a = sa if isinstance(sa, tuple) else (sa,)
        parts_b = sb if isinstance(sb, tuple) else (sb,)
        for xa, xb in zip(parts_a, parts_b, strict=True):
            np.testing.assert_allclose(xa, xb, rtol=0, atol=atol)


def layer_weights(model, prefix):
    names = ("Wx", "Wh") + (("bx", "bh") if model.cell == "gru" else ("b",))
    return {name: model.params[prefix + name] for name in names}


# ---------------------------------------------------------------------------------------
# Gradient checks (float64)
# ---------------------------------------------------------------------------------------
@cell_params
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("embedding_dim", [None, E], ids=["onehot", "embed"])
def test_charrnn_gradients(cell, num_layers, embedding_dim):
    model = CharRNN(V, H, cell=cell, num_layers=num_layers, embedding_dim=embedding_dim,
                    seed=1, dtype=np.float64)
    idx, targets = char_data(2)
    state = random_state(model, N, 3)  # a carried state, as in truncated BPTT
    check_gradients(model, lambda: model.loss(idx, targets, state))


@cell_params
def test_single_step_gradients(cell):
    # T = 1 (sampling, or the last piece of a text) goes through the step kernels.
    model = CharRNN(V, H, cell=cell, num_layers=2, embedding_dim=E, dropout=0.3, seed=44,
                    dtype=np.float64)
    idx, targets = char_data(45, N + 1, 1)
    state = random_state(model, N + 1, 46)
    check_gradients(model, lambda: model.loss(idx, targets, state, train=True,
                                              rng=np.random.default_rng(47)))
    clf = SequenceClassifier(D, H, C, cell=cell, num_layers=2, seed=48, dtype=np.float64)
    x = np.random.default_rng(49).standard_normal((N, 1, D))
    check_gradients(clf, lambda: clf.loss(x, np.array([2, 1])))


@cell_params
def test_charrnn_gradients_with_dropout_and_mask(cell):
    # The same generator seed in every call draws the same masks: a fixed function.
    model = CharRNN(V, H, cell=cell, num_layers=2, embedding_dim=E, dropout=0.3, seed=4,
                    dtype=np.float64)
    idx, targets = char_data(5)
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
    state = random_state(model, N, 6)

    def loss_fn():
        return model.loss(idx, targets, state, mask=mask, train=True, rng=np.random.default_rng(7))

    _, cache, _ = model.forward(idx, state, train=True, rng=np.random.default_rng(7))
    assert all(m is not None and (m == 0).any() for m in cache.masks), "dropout must be active"
    check_gradients(model, loss_fn)


@cell_params
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_classifier_gradients(cell, bidirectional):
    model = SequenceClassifier(D, H, C, cell=cell, num_layers=2, bidirectional=bidirectional,
                               seed=8, dtype=np.float64)
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((N + 1, T, D)), np.array([0, 2, 1])
    check_gradients(model, lambda: model.loss(x, y))


def test_classifier_gradients_with_dropout():
    model = SequenceClassifier(D, H, C, cell="gru", num_layers=2, bidirectional=True,
                               dropout=0.3, seed=10, dtype=np.float64)
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((N, T, D)), np.array([2, 0])
    check_gradients(model, lambda: model.loss(x, y, train=True, rng=np.random.default_rng(12)))


# ---------------------------------------------------------------------------------------
# Agreement with PyTorch (float64)
# ---------------------------------------------------------------------------------------
@cell_params
@pytest.mark.parametrize("embedding_dim", [None, E], ids=["onehot", "embed"])
def test_charrnn_matches_torch(torch, cell, embedding_dim):
    F = torch.nn.functional
    L, n, t = 2, 3, 6
    model = CharRNN(V, H, cell=cell, num_layers=L, embedding_dim=embedding_dim, seed=13,
                    dtype=np.float64)
    idx, targets = char_data(14, n, t)
    mask = np.random.default_rng(15).random((n, t)) < 0.7
    mask[0, 0] = True
    state = random_state(model, n, 16)
    logits, _, new_state = model.forward(idx, state)
    loss, grads, _ = model.loss(idx, targets, state, mask=mask)

    spec = CELL_BY_NAME[cell]
    rnn = make_torch_module(torch, spec, embedding_dim or V, H, np.float64,
                            {f"l{l}": layer_weights(model, f"layer{l}.") for l in range(L)})
    head = torch.nn.Linear(H, V, dtype=torch.float64)
    idx_t = torch.from_numpy(idx)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(model.params["head.W"].T.copy()))
        head.bias.copy_(torch.from_numpy(model.params["head.b"]))
    if embedding_dim is None:
        x = F.one_hot(idx_t, V).to(torch.float64)
    else:
        embed = torch.nn.Embedding(V, embedding_dim, dtype=torch.float64)
        with torch.no_grad():
            embed.weight.copy_(torch.from_numpy(model.params["embed.W"]))
        x = embed(idx_t)
    stack = lambda k: torch.from_numpy(np.stack([s[k] if cell == "lstm" else s for s in state]))  # noqa: E731
    hx = (stack(0), stack(1)) if cell == "lstm" else stack(0)
    out, hn = rnn(x, hx)
    logits_t = head(out)
    targets_t = torch.from_numpy(np.where(mask, targets, -100))  # masked: ignore_index
    loss_t = F.cross_entropy(logits_t.reshape(-1, V), targets_t.reshape(-1))
    loss_t.backward()

    assert_close(logits, logits_t.detach().numpy(), TOL64, "logits")
    assert_close(loss, loss_t.item(), TOL64, "loss")
    h_n, c_n = hn if cell == "lstm" else (hn, None)
    for l in range(L):
        ours = new_state[l]
        assert_close(ours[0] if cell == "lstm" else ours, h_n[l].detach().numpy(), TOL64, f"h_n[{l}]")
        if cell == "lstm":
            assert_close(ours[1], c_n[l].detach().numpy(), TOL64, f"c_n[{l}]")
    expected = {"head.W": head.weight.grad.numpy().T, "head.b": head.bias.grad.numpy()}
    if embedding_dim is not None:
        expected["embed.W"] = embed.weight.grad.numpy()
    for l in range(L):
        for name, g in torch_param_grads(spec, rnn, f"l{l}").items():
            expected[f"layer{l}.{name}"] = g
    assert set(grads) == set(expected)
    for name in expected:
        assert_close(grads[name], expected[name], TOL64, f"d{name}")


@cell_params
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_classifier_matches_torch(torch, cell, bidirectional):
    F = torch.nn.functional
    L, n, t = 2, 3, 5
    model = SequenceClassifier(D, H, C, cell=cell, num_layers=L, bidirectional=bidirectional,
                               seed=17, dtype=np.float64)
    rng = np.random.default_rng(18)
    x, y = rng.standard_normal((n, t, D)), np.array([1, 0, 2])
    logits, _ = model.forward(x)
    loss, grads = model.loss(x, y)

    spec = CELL_BY_NAME[cell]
    suffixes = {f"l{l}": f"layer{l}." for l in range(L)}
    if bidirectional:
        suffixes |= {f"l{l}_reverse": f"layer{l}.reverse." for l in range(L)}
    rnn = make_torch_module(torch, spec, D, H, np.float64,
                            {sfx: layer_weights(model, prefix) for sfx, prefix in suffixes.items()})
    F_in = 2 * H if bidirectional else H
    head = torch.nn.Linear(F_in, C, dtype=torch.float64)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(model.params["head.W"].T.copy()))
        head.bias.copy_(torch.from_numpy(model.params["head.b"]))
    _, hn = rnn(torch.from_numpy(x))
    h_n = hn[0] if cell == "lstm" else hn  # (L * directions, N, H), last layer last
    # torch's own final states: the last layer's forward (and backward) direction
    features = torch.cat([h_n[-2], h_n[-1]], dim=1) if bidirectional else h_n[-1]
    logits_t = head(features)
    loss_t = F.cross_entropy(logits_t, torch.from_numpy(y))
    loss_t.backward()

    assert_close(logits, logits_t.detach().numpy(), TOL64, "logits")
    assert_close(loss, loss_t.item(), TOL64, "loss")
    expected = {"head.W": head.weight.grad.numpy().T, "head.b": head.bias.grad.numpy()}
    for sfx, prefix in suffixes.items():
        for name, g in torch_param_grads(spec, rnn, sfx).items():
            expected[prefix + name] = g
    assert set(grads) == set(expected)
    for name in expected:
        assert_close(grads[name], expected[name], TOL64, f"d{name}")


# ---------------------------------------------------------------------------------------
# Carrying state across chunks (truncated BPTT)
# ---------------------------------------------------------------------------------------
@cell_params
@pytest.mark.parametrize("embedding_dim", [None, E], ids=["onehot", "embed"])
def test_state_carry_equals_whole_sequence(cell, embedding_dim):
    model = CharRNN(V, H, cell=cell, num_layers=2, embedding_dim=embedding_dim, seed=19,
                    dtype=np.float64)
    idx, _ = char_data(20, 3, 9)
    state = random_state(model, 3, 21)
    whole, _, whole_state = model.forward(idx, state)
    chunks = []
    for start, stop in [(0, 1), (1, 4), (4, 5), (5, 9)]:  # T = 1 takes the step kernels
        logits, _, state = model.forward(idx[:, start:stop], state)
        chunks.append(logits)
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), whole, rtol=0, atol=1e-12)
    states_equal(state, whole_state, atol=1e-12)


@cell_params
def test_new_state_is_fresh(cell):
    # The training loop may reset rows of the carried state in place (a new document
    # begins). That must not change the cache the backward pass still needs.
    model = CharRNN(V, H, cell=cell, num_layers=2, seed=22, dtype=np.float64)
    idx, _ = char_data(23)
    logits, cache, new_state = model.forward(idx)
    dlogits = np.random.default_rng(24).standard_normal(logits.shape)
    expected = {k: g.copy() for k, g in model.backward(dlogits, cache).items()}
    for s in new_state:
        for a in (s if isinstance(s, tuple) else (s,)):
            a[...] = 0
    for name, g in model.backward(dlogits, cache).items():
        np.testing.assert_array_equal(g, expected[name], err_msg=name)


def test_initial_state_is_zeros():
    for cell in CELLS:
        state = CharRNN(V, H, cell=cell, num_layers=2).initial_state(4)
        assert len(state) == 2
        for s in state:
            parts = s if cell == "lstm" else (s,)
            assert len(parts) == (2 if cell == "lstm" else 1)
            for a in parts:
                assert a.shape == (4, H) and a.dtype == np.float32 and not a.any()


# ---------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------
def test_eval_ignores_dropout():
    idx, _ = char_data(25)
    x = np.random.default_rng(26).standard_normal((N, T, D))
    for cell in CELLS:
        plain = CharRNN(V, H, cell=cell, num_layers=2, seed=27)
        dropped = CharRNN(V, H, cell=cell, num_layers=2, dropout=0.5, seed=27)
        expected = plain.forward(idx)[0]
        np.testing.assert_array_equal(dropped.forward(idx)[0], expected)
        np.testing.assert_array_equal(
            dropped.forward(idx, train=False, rng=np.random.default_rng(0))[0], expected)
        np.testing.assert_array_equal(plain.forward(idx, train=True)[0], expected)  # dropout=0
        clf = SequenceClassifier(D, H, C, cell=cell, num_layers=2, seed=28)
        clf_dropped = SequenceClassifier(D, H, C, cell=cell, num_layers=2, dropout=0.5, seed=28)
        np.testing.assert_array_equal(clf_dropped.forward(x)[0], clf.forward(x)[0])


def test_dropout_without_rng_raises():
    idx, targets = char_data(29)
    model = CharRNN(V, H, dropout=0.2)
    with pytest.raises(ValueError, match="rng"):
        model.forward(idx, train=True)
    with pytest.raises(ValueError, match="rng"):
        model.loss(idx, targets, train=True)
    clf = SequenceClassifier(D, H, C, dropout=0.2)
    with pytest.raises(ValueError, match="rng"):
        clf.loss(np.zeros((N, T, D)), np.zeros(N, int), train=True)


@cell_params
def test_dropout_never_crosses_time(cell):
    # Dropout sits between layers and before the head, never on h_{t-1} -> h_t: the
    # states a layer carries are exactly the eval ones, even when its output is dropped.
    idx, _ = char_data(30, 4, 12)
    for num_layers in (1, 2):
        model = CharRNN(V, 16, cell=cell, num_layers=num_layers, dropout=0.5, seed=31)
        logits_eval, _, state_eval = model.forward(idx)
        logits_train, _, state_train = model.forward(idx, train=True, rng=np.random.default_rng(32))
        assert not np.allclose(logits_train, logits_eval), "dropout must change the output"
        states_equal(state_train[:1], state_eval[:1])  # layer 0: input never dropped
        if num_layers == 2:  # layer 1 reads a dropped input, so its state differs
            assert not np.allclose(state_train[1][0] if cell == "lstm" else state_train[1],
                                   state_eval[1][0] if cell == "lstm" else state_eval[1])
    # Classifier, one layer: training logits are the head applied to the eval features
    # times the mask, so nothing inside the recurrence was dropped.
    clf = SequenceClassifier(D, 16, C, cell=cell, bidirectional=True, dropout=0.5, seed=33)
    x = np.random.default_rng(34).standard_normal((4, 6, D)).astype(np.float32)
    _, cache_eval = clf.forward(x)
    logits_train, cache = clf.forward(x, train=True, rng=np.random.default_rng(35))
    features_eval = cache_eval.head[0]  # affine_forward's cache: (x, W)
    mask = cache.masks[0]
    mask_features = np.concatenate([mask[:, -1, :16], mask[:, 0, 16:]], axis=1)
    expected = (features_eval * mask_features) @ clf.params["head.W"] + clf.params["head.b"]
    np.testing.assert_allclose(logits_train, expected, rtol=1e-5, atol=1e-6)


def test_dropout_masks():
    p = 0.3
    model = CharRNN(V, 32, num_layers=2, dropout=p, seed=36)
    idx, _ = char_data(37, 8, 20)
    _, cache, _ = model.forward(idx, train=True, rng=np.random.default_rng(38))
    for mask in cache.masks:
        assert mask.shape == (8, 20, 32) and mask.dtype == np.float32
        assert set(np.unique(mask)) == {np.float32(0), np.float32(1 / (1 - p))}
        assert abs((mask == 0).mean() - p) < 0.05
        assert not np.array_equal(mask[:, 0], mask[:, 1]), "a fresh mask at every step"
    _, cache2, _ = model.forward(idx, train=True, rng=np.random.default_rng(38))
    for m1, m2 in zip(cache.masks, cache2.masks):
        np.testing.assert_array_equal(m1, m2)


# ---------------------------------------------------------------------------------------
# Initialisation, dtype, config
# ---------------------------------------------------------------------------------------
def test_seed_determines_params():
    for make in (lambda s: CharRNN(V, 8, cell="gru", num_layers=2, embedding_dim=E, seed=s),
                 lambda s: SequenceClassifier(D, 8, C, num_layers=2, bidirectional=True, seed=s)):
        a, b, c = make(0), make(0), make(1)
        assert list(a.params) == list(b.params) == list(c.params)
        for name in a.params:
            np.testing.assert_array_equal(a.params[name], b.params[name])
            if name.endswith(("W", "Wx", "Wh")):  # the randomly drawn ones
                assert not np.array_equal(a.params[name], c.params[name]), name


def test_param_names_and_shapes():
    m = CharRNN(V, H, cell="gru", num_layers=2, embedding_dim=E)
    assert {k: v.shape for k, v in m.params.items()} == {
        "embed.W": (V, E),
        "layer0.Wx": (E, 3 * H), "layer0.Wh": (H, 3 * H), "layer0.bx": (3 * H,), "layer0.bh": (3 * H,),
        "layer1.Wx": (H, 3 * H), "layer1.Wh": (H, 3 * H), "layer1.bx": (3 * H,), "layer1.bh": (3 * H,),
        "head.W": (H, V), "head.b": (V,)}
    m = CharRNN(V, H, cell="lstm")
    assert {k: v.shape for k, v in m.params.items()} == {
        "layer0.Wx": (V, 4 * H), "layer0.Wh": (H, 4 * H), "layer0.b": (4 * H,),
        "head.W": (H, V), "head.b": (V,)}
    m = SequenceClassifier(D, H, C, cell="rnn", num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in m.params.items()} == {
        "layer0.Wx": (D, H), "layer0.Wh": (H, H), "layer0.b": (H,),
        "layer0.reverse.Wx": (D, H), "layer0.reverse.Wh": (H, H), "layer0.reverse.b": (H,),
        "layer1.Wx": (2 * H, H), "layer1.Wh": (H, H), "layer1.b": (H,),
        "layer1.reverse.Wx": (2 * H, H), "layer1.reverse.Wh": (H, H), "layer1.reverse.b": (H,),
        "head.W": (2 * H, C), "head.b": (C,)}


@cell_params
def test_init_scheme(cell):
    Hs = 16
    g = GATES[cell]
    for model in (CharRNN(V, Hs, cell=cell, num_layers=2, dtype=np.float64),
                  SequenceClassifier(D, Hs, C, cell=cell, num_layers=2, bidirectional=True,
                                     dtype=np.float64)):
        for name, p in model.params.items():
            if name.endswith("Wh"):  # every gate block orthogonal
                for k in range(g):
                    block = p[:, k * Hs:(k + 1) * Hs]
                    np.testing.assert_allclose(block.T @ block, np.eye(Hs), atol=1e-12, err_msg=name)
            elif name.endswith("Wx"):
                assert np.abs(p).max() <= 1 / math.sqrt(Hs), name
            elif name.endswith((".b", ".bx", ".bh")) and not name.startswith("head"):
                expected = np.zeros(g * Hs)
                if cell == "lstm":
                    expected[Hs:2 * Hs] = 1.0  # the forget gate, blocks i, f, g, o
                np.testing.assert_array_equal(p, expected, err_msg=name)
        np.testing.assert_array_equal(model.params["head.b"], 0)


def test_initial_loss_is_about_ln_vocab():
    vocab = 65
    idx, targets = char_data(39, 8, 30, vocab)
    for cell in CELLS:
        for embedding_dim in (None, 16):
            model = CharRNN(vocab, 64, cell=cell, num_layers=2, embedding_dim=embedding_dim)
            loss = model.loss(idx, targets)[0]
            assert abs(loss - math.log(vocab)) < 0.1, (cell, embedding_dim, loss)


def test_float32_throughout():
    idx, targets = char_data(40)
    model = CharRNN(V, H, num_layers=2, embedding_dim=E)
    loss, grads, state = model.loss(idx, targets)
    assert type(loss) is float
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(a.dtype == np.float32 for s in state for a in s)
    clf = SequenceClassifier(D, H, C, bidirectional=True)
    x = np.random.default_rng(41).random((N, T, D))  # float64 pixels are cast to the model's dtype
    logits, _ = clf.forward(x)
    assert logits.dtype == np.float32
    assert all(g.dtype == np.float32 for g in clf.loss(x, np.array([0, 1]))[1].values())


def test_config_round_trip():
    for model in (CharRNN(V, H, cell="gru", num_layers=2, embedding_dim=E, dropout=0.1),
                  CharRNN(np.int64(V), H),
                  SequenceClassifier(D, H, C, cell="rnn", bidirectional=True, dropout=0.2)):
        text = json.dumps(model.config)  # plain JSON
        config = json.loads(text)
        assert config == model.config
        again = type(model).from_config(config)
        assert again.config == model.config
        for name, p in model.params.items():  # fresh init with the default seed
            np.testing.assert_array_equal(again.params[name], p)
        assert all(p.dtype == np.float64
                   for p in type(model).from_config(config, dtype=np.float64).params.values())
    assert CharRNN(V, H).config == {"model": "CharRNN", "vocab_size": V, "hidden_size": H,
                                    "cell": "lstm", "num_layers": 1, "embedding_dim": None,
                                    "dropout": 0.0}
    with pytest.raises(ValueError, match="SequenceClassifier"):
        SequenceClassifier.from_config(CharRNN(V, H).config)
    with pytest.raises(ValueError, match="keys"):
        CharRNN.from_config(CharRNN(V, H).config | {"hidden": 3})


def test_forward_reads_params_afresh():
    # An optimizer updates params in place; the next forward must see the change.
    idx, _ = char_data(42)
    model = CharRNN(V, H)
    before = model.forward(idx)[0]
    model.params["head.b"] += 1.0
    np.testing.assert_allclose(model.forward(idx)[0], before + 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("embedding_dim", [None, E], ids=["onehot", "embed"])
def test_bad_idx(embedding_dim):
    model = CharRNN(V, H, embedding_dim=embedding_dim)
    for bad in (V, 7, -1):
        idx = np.zeros((N, T), int)
        idx[1, 2] = bad
        with pytest.raises(ValueError, match=rf"idx: index {bad} "):
            model.forward(idx)
    with pytest.raises(ValueError, match=r"idx: expected a 2-D array \(N, T\), got shape \(4,\)"):
        model.forward(np.zeros(T, int))
    with pytest.raises(ValueError, match="idx"):
        model.forward(np.zeros((N, T)))  # floats
    with pytest.raises(ValueError, match="idx"):
        model.forward(np.zeros((N, 0), int))
    with pytest.raises(ValueError, match="label 9"):
        model.loss(np.zeros((N, T), int), np.full((N, T), 9))


def test_bad_x():
    clf = SequenceClassifier(28, H, 10)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, T >= 1, 28\), got \(2, 28, 27\)"):
        clf.forward(np.zeros((2, 28, 27), np.float32))
    with pytest.raises(ValueError, match="x: expected a 3-D"):
        clf.forward(np.zeros((2, 784), np.float32))
    with pytest.raises(ValueError, match="x: expected a floating-point"):
        clf.forward(np.zeros((2, 28, 28), np.uint8))


def test_bad_constructor_arguments():
    for make in (lambda **kw: CharRNN(V, H, **kw), lambda **kw: SequenceClassifier(D, H, C, **kw)):
        with pytest.raises(ValueError, match="'rnn', 'lstm', 'gru'.*'LSTM'"):
            make(cell="LSTM")
        with pytest.raises(ValueError, match="dropout"):
            make(dropout=1.0)
        with pytest.raises(ValueError, match="num_layers"):
            make(num_layers=0)
    with pytest.raises(ValueError, match="hidden_size"):
        CharRNN(V, 0)
    with pytest.raises(ValueError, match="embedding_dim"):
        CharRNN(V, H, embedding_dim=2.5)


@cell_params
def test_bad_state(cell):
    model = CharRNN(V, H, cell=cell, num_layers=2)
    idx, _ = char_data(43)
    state = model.initial_state(N)
    wrong = np.zeros((N, H + 1), np.float32)
    state[1] = (wrong, wrong) if cell == "lstm" else wrong
    with pytest.raises(ValueError, match=r"state\[1\]: layer 1 expects h of shape \(2, 3\), got \(2, 4\)"):
        model.forward(idx, state)
    with pytest.raises(ValueError, match="state: expected a list of 2 per-layer states"):
        model.forward(idx, model.initial_state(N)[:1])
    with pytest.raises(ValueError, match=r"state\[0\]"):
        model.forward(idx, CharRNN(V, H, cell=cell, num_layers=2).initial_state(N + 1))
    if cell == "lstm":
        state = model.initial_state(N)
        state[0] = state[0][0]
        with pytest.raises(ValueError, match=r"state\[0\]: layer 0 of an lstm expects an \(h, c\) pair"):
            model.forward(idx, state)


# ---------------------------------------------------------------------------------------
# It learns
# ---------------------------------------------------------------------------------------
def test_charrnn_overfits_a_short_string():
    text = "the quick brown fox jumps over lazy dogs"  # 40 characters
    assert len(text) == 40
    chars = sorted(set(text))
    ids = np.array([chars.index(ch) for ch in text * 3])
    idx, targets = ids[None, :80], ids[None, 1:81]  # two periods: predict every next char
    model = CharRNN(len(chars), 32, cell="lstm", seed=0)
    opt = Adam(model.params, lr=1e-2)
    first = model.loss(idx, targets)[0]
    for _ in range(150):
        loss, grads, _ = model.loss(idx, targets)
        opt.step(grads)
    assert first > 2.5
    assert loss < 0.1, f"loss after 150 Adam steps: {loss:.3f}"
