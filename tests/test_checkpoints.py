"""Tests for course_lib.training.checkpoints: round trips, atomic writes, every error path, and
resuming training bitwise exactly."""

import os
import zipfile

import numpy as np
import pytest
from test_training import TEXT_IDS, Bigram

from course_lib import schedules
from course_lib.data.vocab import CharVocab
from course_lib.models import CharRNN
from course_lib.optim import SGD, Adam, RMSprop
from course_lib.training import History, TruncatedBPTT, checkpoints, evaluate_lm, fit
from course_lib.training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.filterwarnings("error")

VOCAB = CharVocab("abcdefg")


def trained(model, opt, steps=3):
    """Take a few steps so the weights and the optimizer state are not the initial ones."""
    tbptt = TruncatedBPTT(model, TEXT_IDS[:400], batch_size=2, seq_len=10)
    history = fit(tbptt.step, tbptt.batches(), opt, num_steps=steps, progress=False)
    return tbptt, history


@pytest.fixture
def saved(tmp_path):
    """A small CharRNN checkpoint with everything in it; returns (path, model, optimizer, history, tbptt)."""
    model = CharRNN(7, 6, cell="lstm", num_layers=2, embedding_dim=3, dropout=0.1)
    opt = Adam(model.params, lr=0.01, betas=(0.8, 0.99))
    tbptt, history = trained(model, opt)
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, VOCAB, opt, history, extra=tbptt.state_dict() | {"note": "héllo"})
    return path, model, opt, history, tbptt


# --- round trips ----------------------------------------------------------------------------

def test_round_trip_builds_the_model_from_its_config(saved):
    path, model, opt, history, tbptt = saved
    ckpt = load_checkpoint(path)
    assert isinstance(ckpt.model, CharRNN) and ckpt.model.config == model.config == ckpt.config
    assert ckpt.model.params.keys() == model.params.keys()
    for name, p in model.params.items():
        assert ckpt.model.params[name].dtype == np.float32
        np.testing.assert_array_equal(ckpt.model.params[name], p)
    assert ckpt.vocab == VOCAB and ckpt.history == history and ckpt.step == 3
    assert ckpt.extra["note"] == "héllo" and ckpt.extra["epoch"] == 0 and ckpt.extra["chunk"] == 3
    np.testing.assert_array_equal(ckpt.extra["state/1/1"], tbptt.state[1][1])
    assert ckpt.optimizer is None


def test_the_file_is_a_plain_npz_without_pickles(saved):
    path = saved[0]
    with np.load(path, allow_pickle=False) as f:
        keys = set(f.files)
        assert f["format"] == "course_lib.checkpoint" and f["config"].dtype.kind == "U"
        assert f["optimizer"] == "Adam" and int(f["optim/step"]) == 3
    assert {"param/layer1.Wh", "vocab", "optim/exp_avg/head.W", "history/loss", "extra/state/0/0"} <= keys


def test_loading_into_a_model_copies_in_place_so_its_optimizer_keeps_working(saved):
    path, model, opt, *_ = saved
    fresh = CharRNN(**{k: v for k, v in model.config.items() if k != "model"})
    arrays = dict(fresh.params)
    fresh_opt = Adam(fresh.params, lr=0.01, betas=(0.8, 0.99))
    ckpt = load_checkpoint(path, model=fresh, optimizer=fresh_opt)
    assert ckpt.model is fresh and ckpt.optimizer is fresh_opt
    assert all(fresh.params[k] is arrays[k] for k in arrays)  # the same arrays, new values
    np.testing.assert_array_equal(fresh.params["head.W"], model.params["head.W"])
    state, expected = fresh_opt.state_dict(), opt.state_dict()
    assert state.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(state[key], expected[key])


def test_a_model_class_builds_from_the_config(tmp_path):
    model = Bigram(7, dtype=np.float64)
    save_checkpoint(tmp_path / "b.npz", model)
    ckpt = load_checkpoint(tmp_path / "b.npz", model=Bigram)
    assert isinstance(ckpt.model, Bigram) and ckpt.model.params["W"].dtype == np.float64
    np.testing.assert_array_equal(ckpt.model.params["W"], model.params["W"])
    assert ckpt.vocab is None and ckpt.history is None and ckpt.extra == {} and ckpt.step == 0


def test_step_defaults_to_the_history_then_the_optimizer(tmp_path):
    model = Bigram(7)
    opt = SGD(model.params, lr=0.1)
    trained(model, opt, steps=4)
    save_checkpoint(tmp_path / "a.npz", model, optimizer=opt)
    save_checkpoint(tmp_path / "b.npz", model, history=History(step=[0, 1], loss=[1, 1], grad_norm=[1, 1], lr=[1, 1]))
    save_checkpoint(tmp_path / "c.npz", model, step=99)
    assert [load_checkpoint(tmp_path / f"{n}.npz", model=Bigram).step for n in "abc"] == [4, 2, 99]


# --- atomic writes --------------------------------------------------------------------------

def test_saving_replaces_the_file_and_leaves_no_temporary(tmp_path):
    model = Bigram(7)
    save_checkpoint(tmp_path / "c.npz", model)
    model.params["b"] += 1
    save_checkpoint(tmp_path / "c.npz", model)
    assert os.listdir(tmp_path) == ["c.npz"]
    np.testing.assert_array_equal(load_checkpoint(tmp_path / "c.npz", model=Bigram).model.params["b"], 1)


def test_a_failed_save_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    model = Bigram(7)
    save_checkpoint(tmp_path / "c.npz", model)
    before = (tmp_path / "c.npz").read_bytes()

    def crash_half_way(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt  # e.g. the learner stops the kernel while it saves

    monkeypatch.setattr(checkpoints.np, "savez", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "c.npz", model)
    assert os.listdir(tmp_path) == ["c.npz"] and (tmp_path / "c.npz").read_bytes() == before


def test_python_objects_are_refused_when_saving(tmp_path):
    with pytest.raises(ValueError, match="allow_pickle"):
        save_checkpoint(tmp_path / "c.npz", Bigram(7), extra={"bad": {"a": 1}})
    assert os.listdir(tmp_path) == []


def test_a_config_that_is_not_json_is_refused(tmp_path):
    model = Bigram(7)
    model.config["rng"] = np.random.default_rng()
    with pytest.raises(CheckpointError, match="model.config: must be JSON-able"):
        save_checkpoint(tmp_path / "c.npz", model)


# --- damaged files and files that are not checkpoints ---------------------------------------

def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_checkpoint(tmp_path / "nope.npz")


@pytest.mark.parametrize("content", [b"", b"hello world", b"\x93NUMPY\x01\x00"])
def test_a_file_that_is_not_an_npz(tmp_path, content):
    (tmp_path / "x.npz").write_bytes(content)
    with pytest.raises(CheckpointError, match=r"x\.npz: not a checkpoint \(not an \.npz file"):
        load_checkpoint(tmp_path / "x.npz")


def test_an_npz_that_is_not_a_checkpoint(tmp_path):
    np.savez(tmp_path / "w.npz", W=np.zeros(3))
    with pytest.raises(CheckpointError, match=r"w\.npz: an \.npz file, but not a course_lib checkpoint.*\['W'\]"):
        load_checkpoint(tmp_path / "w.npz")


def test_an_npz_with_pickled_objects_is_refused(tmp_path):
    np.savez(tmp_path / "p.npz", format=np.asarray("course_lib.checkpoint"), evil=np.array([{}], dtype=object))
    with pytest.raises(CheckpointError, match=r"p\.npz: holds pickled Python objects, which are refused"):
        load_checkpoint(tmp_path / "p.npz")


@pytest.mark.parametrize("keep", [0.5, 0.99, 0.999])
def test_a_truncated_file(saved, keep):
    path = saved[0]
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=r"ckpt\.npz: truncated or corrupt"):
        load_checkpoint(path)


def test_a_corrupted_byte_inside_a_weight(saved):
    path = saved[0]
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("param/layer0.Wh.npy")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 200] ^= 0xFF  # inside the stored array's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"ckpt\.npz: truncated or corrupt \(BadZipFile: Bad CRC-32"):
        load_checkpoint(path)


def test_another_version(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "VERSION", 2)
    save_checkpoint(tmp_path / "v2.npz", Bigram(7))
    monkeypatch.setattr(checkpoints, "VERSION", 1)
    with pytest.raises(CheckpointError, match="checkpoint version 2, this course_lib reads 1"):
        load_checkpoint(tmp_path / "v2.npz")


def test_an_unknown_model_class_asks_for_model(tmp_path):
    save_checkpoint(tmp_path / "b.npz", Bigram(7))
    with pytest.raises(CheckpointError, match="config names model 'Bigram', which course_lib.models does not have"):
        load_checkpoint(tmp_path / "b.npz")


# --- a checkpoint that does not fit ---------------------------------------------------------

def test_another_architecture_says_which_keys_differ(saved):
    path, model, *_ = saved
    other = CharRNN(7, 5, cell="gru", num_layers=2, embedding_dim=3, dropout=0.1)
    before = {k: p.copy() for k, p in other.params.items()}
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, model=other)
    message = str(info.value)
    assert "ckpt.npz: the model's config differs from the checkpoint's" in message
    assert "cell: checkpoint 'lstm', here 'gru'" in message and "hidden_size: checkpoint 6, here 5" in message
    assert "num_layers" not in message and "dropout" not in message  # only what differs
    assert all(np.array_equal(other.params[k], before[k]) for k in before)  # nothing changed


def test_weights_that_do_not_match_the_params(tmp_path):
    model = Bigram(7)
    save_checkpoint(tmp_path / "b.npz", model)
    other = Bigram(7)
    other.params["extra"] = np.zeros(2)
    with pytest.raises(CheckpointError, match=r"missing \['extra'\], unexpected \[\]"):
        load_checkpoint(tmp_path / "b.npz", model=other)
    other = Bigram(7)
    other.params["b"] = np.zeros(8)
    with pytest.raises(CheckpointError, match=r"weight 'b' has shape \(7,\), the model's \(8,\)"):
        load_checkpoint(tmp_path / "b.npz", model=other)


def test_another_vocabulary(saved):
    with pytest.raises(CheckpointError, match="the vocabulary differs: checkpoint CharVocab.*'abcdefg'.*given.*'abcdefh'"):
        load_checkpoint(saved[0], vocab=CharVocab("abcdefh"))
    assert load_checkpoint(saved[0], vocab=CharVocab("abcdefg")).vocab == VOCAB


def test_another_optimizer_class(saved):
    path, model, *_ = saved
    before = model.params["head.W"].copy()
    model.params["head.W"] += 1
    with pytest.raises(CheckpointError, match="the optimizer state is for Adam, not RMSprop"):
        load_checkpoint(path, model=model, optimizer=RMSprop(model.params))
    np.testing.assert_array_equal(model.params["head.W"], before + 1)  # nothing loaded


def test_other_optimizer_settings_are_named_but_not_the_lr(saved):
    path, model, *_ = saved
    with pytest.raises(CheckpointError, match=r"the Adam settings differ from the checkpoint's: "
                                              r"betas: checkpoint \[0.8, 0.99\], here \[0.9, 0.999\]$"):
        load_checkpoint(path, model=model, optimizer=Adam(model.params, lr=0.01))
    load_checkpoint(path, model=model, optimizer=Adam(model.params, lr=0.5, betas=(0.8, 0.99)))


def test_an_optimizer_not_built_on_the_model(saved):
    path, model, *_ = saved
    copies = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(CheckpointError, match=r"optimizer: was not built on this model's params .*Adam\(model.params"):
        load_checkpoint(path, model=model, optimizer=Adam(copies, betas=(0.8, 0.99)))
    with pytest.raises(CheckpointError, match="was not built on this model's params"):
        save_checkpoint(path, model, optimizer=Adam(copies))


def test_an_optimizer_for_a_checkpoint_without_one(tmp_path):
    model = Bigram(7)
    save_checkpoint(tmp_path / "b.npz", model)
    with pytest.raises(CheckpointError, match=r"b\.npz: holds no optimizer state"):
        load_checkpoint(tmp_path / "b.npz", model=model, optimizer=SGD(model.params, lr=0.1))


def test_optimizer_state_that_does_not_fit(tmp_path):
    model = Bigram(7)
    save_checkpoint(tmp_path / "b.npz", model, optimizer=SGD(model.params, lr=0.1, momentum=0.9))
    with pytest.raises(CheckpointError, match="momentum: checkpoint 0.9, here 0.0"):
        load_checkpoint(tmp_path / "b.npz", model=model, optimizer=SGD(model.params, lr=0.1))


# --- resuming -------------------------------------------------------------------------------

def run(model_fn, num_steps, path=None, resume_from=None, stop_at=None):
    """Train model_fn() for steps .. num_steps (from a checkpoint if given); save at stop_at."""
    model = model_fn()
    opt = Adam(model.params, lr=0.02)
    tbptt = TruncatedBPTT(model, TEXT_IDS[:700], batch_size=3, seq_len=20, random_offsets=True, seed=4)
    history = None
    if resume_from is not None:
        ckpt = load_checkpoint(resume_from, model=model, optimizer=opt, vocab=VOCAB)
        tbptt.load_state_dict(ckpt.extra)
        history = ckpt.history
    history = fit(tbptt.step, tbptt.batches(), opt, num_steps=stop_at or num_steps, history=history,
                  schedule=schedules.warmup(schedules.cosine(0.02, num_steps), 4), clip_norm=1.0,
                  validate=lambda: evaluate_lm(model, TEXT_IDS[700:1000], batch_size=2, seq_len=30),
                  val_every=5, progress=False)
    if path is not None:
        save_checkpoint(path, model, VOCAB, opt, history, extra=tbptt.state_dict())
    return model, history


@pytest.mark.parametrize("model_fn", [
    lambda: Bigram(7),
    lambda: CharRNN(7, 8, cell="lstm", num_layers=2, dropout=0.2),
    lambda: CharRNN(7, 8, cell="gru", embedding_dim=4),
], ids=["stand-in", "lstm-2-layers-dropout", "gru-embedding"])
def test_resuming_from_a_checkpoint_continues_bitwise(tmp_path, model_fn):
    # 12 chunks per epoch: stopping at 17 resumes mid-epoch, with a state to carry.
    whole, whole_history = run(model_fn, 30)
    run(model_fn, 30, path=tmp_path / "c.npz", stop_at=17)
    resumed, resumed_history = run(model_fn, 30, resume_from=tmp_path / "c.npz")
    for name, p in whole.params.items():
        np.testing.assert_array_equal(resumed.params[name], p, err_msg=name)
    assert resumed_history == whole_history
    assert whole_history.loss[-1] < whole_history.loss[0]
