"""ShardedLoss (course_lib.parallel): the same loss and gradients as one thread, up to rounding."""

import numpy as np
import pytest

from course_lib.models import SequenceClassifier
from course_lib.parallel import ShardedLoss


@pytest.fixture
def model_and_batch():
    rng = np.random.default_rng(3)
    model = SequenceClassifier(5, 6, 4, cell="lstm", dtype=np.float64, seed=1)
    x = rng.standard_normal((7, 4, 5))
    y = rng.integers(0, 4, 7)
    return model, x, y


@pytest.mark.parametrize("workers", [1, 2, 3, 7, 10])
def test_sharded_equals_the_whole_batch(model_and_batch, workers):
    model, x, y = model_and_batch
    loss, grads = model.loss(x, y)
    with ShardedLoss(model.loss, workers) as sharded:
        s_loss, s_grads = sharded(x, y)
    assert s_loss == pytest.approx(loss, rel=1e-12)
    assert s_grads.keys() == grads.keys()
    for name in grads:
        np.testing.assert_allclose(s_grads[name], grads[name], rtol=1e-10, atol=1e-13, err_msg=name)
        assert s_grads[name].dtype == grads[name].dtype


def test_the_same_inputs_give_the_same_bits(model_and_batch):
    model, x, y = model_and_batch
    with ShardedLoss(model.loss, 2) as sharded:
        first, again = sharded(x, y), sharded(x, y)
    assert first[0] == again[0]
    for name in first[1]:
        np.testing.assert_array_equal(first[1][name], again[1][name])


def test_many_calls_from_threads_never_mix_their_scratch(model_and_batch):
    """Kernels in two threads at once, again and again: every result must equal the
    single-thread one (shared scratch buffers would corrupt some of them)."""
    model, x, y = model_and_batch
    x32, model32 = x.astype(np.float32), SequenceClassifier(5, 6, 4, cell="gru", seed=2)
    expected = model32.loss(x32, y)[1]
    with ShardedLoss(model32.loss, 2) as sharded:
        for _ in range(20):
            grads = sharded(x32, y)[1]
            for name in expected:
                np.testing.assert_allclose(grads[name], expected[name], rtol=2e-5, atol=1e-6)


def test_a_shard_error_reaches_the_caller(model_and_batch):
    model, x, y = model_and_batch
    bad_y = y.copy()
    bad_y[-1] = 9  # only the last shard sees the bad label
    with ShardedLoss(model.loss, 2) as sharded, pytest.raises(ValueError, match="label"):
        sharded(x, bad_y)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_workers_must_be_a_positive_integer(workers):
    with pytest.raises(ValueError, match="workers: expected an integer >= 1"):
        ShardedLoss(lambda x, y: (0.0, {}), workers)


def test_x_and_y_must_agree_on_the_batch_size(model_and_batch):
    model, x, y = model_and_batch
    with ShardedLoss(model.loss, 2) as sharded:
        with pytest.raises(ValueError, match="same batch size"):
            sharded(x[:5], y)
        with pytest.raises(ValueError, match="at least one example"):
            sharded(x[:0], y[:0])
