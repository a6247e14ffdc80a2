"""ShardedLoss (course_lib.training.parallel): the same loss and gradients as one process, up to rounding."""

import gc
import multiprocessing
import os
import signal

import numpy as np
import pytest

from course_lib.models import SequenceClassifier
from course_lib.optim import Adam
from course_lib.training.parallel import ShardedLoss


@pytest.fixture
def model_and_batch():
    rng = np.random.default_rng(3)
    model = SequenceClassifier(5, 6, 4, cell="lstm", dtype=np.float64, seed=1)
    x = rng.standard_normal((7, 4, 5))
    y = rng.integers(0, 4, 7)
    return model, x, y


def assert_same_loss(got, expected, rtol=1e-10):
    assert got[0] == pytest.approx(expected[0], rel=rtol)
    assert got[1].keys() == expected[1].keys()
    for name in expected[1]:
        np.testing.assert_allclose(got[1][name], expected[1][name], rtol=rtol, atol=1e-13, err_msg=name)
        assert got[1][name].dtype == expected[1][name].dtype


@pytest.mark.parametrize("workers", [1, 2, 3, 7, 10])
def test_sharded_equals_the_whole_batch(model_and_batch, workers):
    model, x, y = model_and_batch
    with ShardedLoss(model, workers) as sharded:
        assert_same_loss(sharded(x, y), model.loss(x, y))


def test_the_same_inputs_give_the_same_bits(model_and_batch):
    model, x, y = model_and_batch
    with ShardedLoss(model, 2) as sharded:
        first, again = sharded(x, y), sharded(x, y)
    assert first[0] == again[0]
    for name in first[1]:
        np.testing.assert_array_equal(first[1][name], again[1][name])


def test_the_workers_see_every_update_of_the_weights(model_and_batch):
    """The optimizer changes the caller's arrays in place; every call must use them."""
    model, x, y = model_and_batch
    optimizer = Adam(model.params, lr=0.05)
    with ShardedLoss(model, 3) as sharded:
        for _ in range(4):
            loss, grads = sharded(x, y)
            assert_same_loss((loss, grads), model.loss(x, y))
            optimizer.step(grads)


def test_float32_over_many_calls(model_and_batch):
    _, x, y = model_and_batch
    x32, model32 = x.astype(np.float32), SequenceClassifier(5, 6, 4, cell="gru", seed=2)
    expected = model32.loss(x32, y)
    with ShardedLoss(model32, 2) as sharded:
        for _ in range(20):
            assert_same_loss(sharded(x32, y), expected, rtol=2e-5)


def test_batches_of_other_sizes_and_shapes(model_and_batch):
    """A larger shard, another sequence length, or a smaller last batch: still right."""
    model, x, y = model_and_batch
    rng = np.random.default_rng(8)
    longer = rng.standard_normal((9, 6, 5))
    y_longer = rng.integers(0, 4, 9)
    with ShardedLoss(model, 2) as sharded:
        for xb, yb in [(x[:4], y[:4]), (x, y), (longer, y_longer), (x[:3], y[:3]), (x[:1], y[:1])]:
            assert_same_loss(sharded(xb, yb), model.loss(xb, yb))


def test_a_shard_error_reaches_the_caller_and_the_next_call_works(model_and_batch):
    model, x, y = model_and_batch
    bad_y = y.copy()
    bad_y[-1] = 9  # only the last shard, in a worker process, sees the bad label
    with ShardedLoss(model, 2) as sharded:
        with pytest.raises(ValueError, match="label"):
            sharded(x, bad_y)
        assert_same_loss(sharded(x, y), model.loss(x, y))


def test_an_error_in_the_first_shard_leaves_the_workers_in_step(model_and_batch):
    model, x, y = model_and_batch
    bad_y = y.copy()
    bad_y[0] = -1  # the caller's own shard
    with ShardedLoss(model, 2) as sharded:
        with pytest.raises(ValueError, match="label"):
            sharded(x, bad_y)
        assert_same_loss(sharded(x, y), model.loss(x, y))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_worker_gives_a_clear_error_and_is_replaced(model_and_batch):
    model, x, y = model_and_batch
    with ShardedLoss(model, 2) as sharded:
        sharded(x, y)
        (worker,) = sharded._pool.processes
        assert sharded.pids == [worker.pid]
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(5)
        with pytest.raises(RuntimeError, match=f"worker process {worker.pid} stopped"):
            sharded(x, y)
        assert_same_loss(sharded(x, y), model.loss(x, y))
        assert sharded.pids != [worker.pid]


class InterruptedOnce:
    """A pipe end whose next recv raises KeyboardInterrupt, as Ctrl-C during the wait would."""

    def __init__(self, conn):
        self.conn, self.interrupted = conn, False

    def send(self, message):
        self.conn.send(message)

    def recv(self):
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return self.conn.recv()

    def close(self):
        self.conn.close()


def test_an_interrupted_wait_never_pairs_a_stale_reply_with_the_next_call(model_and_batch):
    model, x, y = model_and_batch
    with ShardedLoss(model, 2) as sharded:
        sharded(x, y)
        sharded._pool.conns[0] = InterruptedOnce(sharded._pool.conns[0])
        with pytest.raises(KeyboardInterrupt):
            sharded(x[:6], y[:6])  # the worker's reply for this batch stays unread
        assert_same_loss(sharded(x, y), model.loss(x, y))


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_workers_ignore_ctrl_c(model_and_batch):
    """Ctrl-C reaches the whole process group; the caller decides, the workers carry on."""
    model, x, y = model_and_batch
    with ShardedLoss(model, 2) as sharded:
        sharded(x, y)
        (pid,) = sharded.pids
        os.kill(pid, signal.SIGINT)
        assert_same_loss(sharded(x, y), model.loss(x, y))
        assert sharded.pids == [pid]


def test_close_and_garbage_collection_stop_the_workers(model_and_batch):
    model, x, y = model_and_batch
    sharded = ShardedLoss(model, 3)
    sharded(x, y)
    assert ShardedLoss(model, 3).pids == []  # none before the first call
    workers = list(sharded._pool.processes)
    assert sharded.pids == [w.pid for w in workers] and len(workers) == 2
    sharded.close()
    sharded.close()  # twice is fine
    assert not any(w.is_alive() for w in workers)
    assert sharded.pids == []
    assert_same_loss(sharded(x, y), model.loss(x, y))  # starts again when called again

    workers = list(sharded._pool.processes)
    del sharded
    gc.collect()
    for w in workers:
        w.join(5)
    assert not any(w.is_alive() for w in workers)


def test_an_error_in_a_middle_shard_leaves_every_worker_in_step(model_and_batch):
    """Every worker's reply is read even after one fails: a reply left unread would be
    taken for the next call's."""
    model, x, y = model_and_batch
    bad_y = y.copy()
    bad_y[3] = 9  # shards 0:2, 2:5, 5:7: the middle one, in the first worker
    with ShardedLoss(model, 3) as sharded:
        pids = sharded(x, y) and sharded.pids
        with pytest.raises(ValueError, match="label") as raised:
            sharded(x, bad_y)
        assert "examples 2:5 of the batch" in "".join(raised.value.__notes__)
        assert "Traceback" in "".join(raised.value.__notes__)  # the worker's own
        assert_same_loss(sharded(x, y), model.loss(x, y))
        assert sharded.pids == pids


def test_results_are_the_callers_own_arrays(model_and_batch):
    """Gradients never alias the shared memory: the next call must not change them."""
    model, x, y = model_and_batch
    with ShardedLoss(model, 2) as sharded:
        loss, grads = sharded(x, y)
        kept = {name: g.copy() for name, g in grads.items()}
        sharded(x[::-1], y[::-1] % 3)
    assert type(loss) is float
    for name in kept:
        np.testing.assert_array_equal(grads[name], kept[name])


def test_workers_restart_only_when_a_batch_needs_more_memory(model_and_batch):
    model, x, y = model_and_batch
    with ShardedLoss(model, 2) as sharded:
        sharded(x, y)
        pids = sharded.pids
        sharded(x[:5], y[:5])  # a smaller last batch
        sharded(x[:, :2], y)  # shorter sequences
        assert sharded.pids == pids
        longer = np.concatenate([x, x], axis=1)
        assert_same_loss(sharded(longer, y), model.loss(longer, y))
        assert sharded.pids != pids


class CannotRebuild:
    """Pickles, but cannot be rebuilt in another process (as a notebook-defined class)."""

    def __init__(self, model):
        self.params, self.loss = model.params, model.loss

    def __reduce__(self):
        return (_refuse_to_rebuild, ())


def _refuse_to_rebuild():
    raise ImportError("no module defines this class here")


def test_a_worker_that_cannot_start_says_why(model_and_batch):
    model, x, y = model_and_batch
    sharded = ShardedLoss(CannotRebuild(model), 2)
    with pytest.raises(RuntimeError, match="could not start: ImportError: no module defines") as raised:
        sharded(x, y)
    assert "importable from a module" in str(raised.value)
    assert sharded.pids == []


def test_a_model_that_does_not_pickle_is_refused_with_the_reason(model_and_batch):
    model, x, y = model_and_batch
    model.hook = lambda: None  # lambdas do not pickle
    with pytest.raises(ValueError, match="model: cannot be sent to a worker process"):
        ShardedLoss(model, 2)(x, y)


class TwoArgumentError(Exception):
    def __init__(self, what, where):
        super().__init__(f"{what} at {where}")


class FailsInWorkers:
    """A model whose loss fails in the worker processes only, in one of two ways."""

    def __init__(self, model, how):
        self.model, self.params, self.how = model, model.params, how

    def loss(self, x, y):
        loss, grads = self.model.loss(x, y)
        if multiprocessing.parent_process() is None:  # the caller's own shard
            return loss, grads
        if self.how == "unrebuildable":
            raise TwoArgumentError("odd shard", "worker")
        grads["head.W"] = grads["head.W"].astype(np.float32)  # "float32 gradient"
        return loss, grads


@pytest.mark.parametrize("how, error, match", [
    ("unrebuildable", RuntimeError, "TwoArgumentError: odd shard at worker"),
    ("float32 gradient", ValueError, r"grads\['head.W'\]: expected shape \(6, 4\) and dtype float64"),
])
def test_worker_errors_arrive_readable(model_and_batch, how, error, match):
    model, x, y = model_and_batch
    with ShardedLoss(FailsInWorkers(model, how), 2) as sharded, pytest.raises(error, match=match):
        sharded(x, y)


def test_dropout_is_refused():
    model = SequenceClassifier(5, 6, 4, num_layers=2, dropout=0.5)
    with pytest.raises(ValueError, match="model: expected no dropout"):
        ShardedLoss(model, 2)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_workers_must_be_a_positive_integer(model_and_batch, workers):
    with pytest.raises(ValueError, match="workers: expected an integer >= 1"):
        ShardedLoss(model_and_batch[0], workers)


def test_model_must_have_params_and_loss(model_and_batch):
    with pytest.raises(ValueError, match="model: expected an object with a params dict"):
        ShardedLoss(model_and_batch[0].loss, 2)


def test_x_and_y_must_agree_on_the_batch_size(model_and_batch):
    model, x, y = model_and_batch
    with ShardedLoss(model, 2) as sharded:
        with pytest.raises(ValueError, match="same batch size"):
            sharded(x[:5], y)
        with pytest.raises(ValueError, match="at least one example"):
            sharded(x[:0], y[:0])


# --- How many workers by default: the CPUs this process may use --------------------------

def write_cgroup(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


@pytest.mark.parametrize("files, affinity, expected", [
    ({}, 8, 8),  # no cgroup limit: the affinity mask decides
    ({"cpu.max": "max 100000\n"}, 8, 8),  # cgroup v2, no quota
    ({"cpu.max": "200000 100000\n"}, 8, 2),  # cgroup v2: 2 CPUs (docker --cpus 2, a k8s limit)
    ({"cpu.max": "150000 100000\n"}, 8, 1),  # 1.5 CPUs: rounded down
    ({"cpu.max": "50000 100000\n"}, 8, 1),  # half a CPU: still one worker
    ({"cpu.max": "400000 100000\n"}, 2, 2),  # a quota above the affinity mask changes nothing
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 8, 3),  # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 8, 8),  # v1, no quota
])
def test_usable_cpus_honours_affinity_and_cgroup_quota(tmp_path, monkeypatch, files, affinity, expected):
    from course_lib.training import parallel

    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
    assert parallel.usable_cpus(write_cgroup(tmp_path, files)) == expected


def test_workers_default_to_the_usable_cpus(monkeypatch):
    from course_lib.training import parallel

    monkeypatch.setattr(parallel, "usable_cpus", lambda: 3)
    model = SequenceClassifier(4, 3, 2, cell="rnn")
    assert ShardedLoss(model).workers == 3
    assert ShardedLoss(model, workers=1).workers == 1
