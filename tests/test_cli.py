"""Tests for the command line (course_lib.cli): train -> checkpoint -> sample / evaluate,
resuming bit for bit, Ctrl-C, the time budget, and every error a user can make.

Everything runs in-process through ``main(argv)`` on a few KB of text and a tiny model,
except one subprocess check of ``python -m course_lib --help``.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib import cli
from course_lib.models import CharRNN, SequenceClassifier
from course_lib.sampling import sample
from course_lib.training import TruncatedBPTT
from course_lib.training.checkpoints import load_checkpoint, save_checkpoint

pytestmark = pytest.mark.filterwarnings("error")

REPO = Path(__file__).resolve().parent.parent
VERSE = ("To be, or not to be, that is the question:\n"
         "Whether 'tis nobler in the mind to suffer\n"
         "The slings and arrows of outrageous fortune,\n"
         "Or to take arms against a sea of troubles\n"
         "And by opposing end them. To die: to sleep;\n")
# A tiny model that trains in milliseconds; no output, no periodic saving unless asked.
TINY = ["--hidden", "8", "--seq-len", "8", "--batch-size", "4", "--log-every", "0",
        "--val-every", "0", "--checkpoint-every", "0"]


@pytest.fixture
def text(tmp_path):
    """About 2 KB of text (a fixed verse, repeated with line numbers)."""
    path = tmp_path / "verse.txt"
    path.write_text("".join(f"{i}. {VERSE}" for i in range(9)), encoding="utf-8")
    return path


def run(capsys, *argv):
    """main(argv) -> (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def train(capsys, text, out, *more):
    code, stdout, err = run(capsys, "train", "--data", text, *TINY, "--out", out, *more)
    assert code == 0, err
    return stdout


def entries(path):
    """Every entry of a checkpoint file, read with allow_pickle=False."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


# --- help -----------------------------------------------------------------------------------

def test_python_m_course_lib_help_runs_as_a_program():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "course_lib", "--help"], capture_output=True,
                            text=True, env=env, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("train", "sample", "evaluate"):
        assert command in result.stdout


@pytest.mark.parametrize("command, shown", [
    ("train", ["--resume", "--minutes", "--checkpoint-every", "(default: 256)", "(default: lstm)",
               "(default: 0.002)", "(default: 0.1)", "(default: float32)", "resuming:"]),
    ("sample", ["--prime", "--top-k", "(default: 500)", "(default: 0.8)", "shakespeare_lstm"]),
    ("evaluate", ["--checkpoint", "--data", "--max-chars"]),
])
def test_each_command_has_help_with_its_defaults(capsys, command, shown):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    out = " ".join(out.split())  # as if argparse had not wrapped the lines
    for text in shown:
        assert text in out, text


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "COMMAND" in err


# --- train -> checkpoint -> sample, evaluate --------------------------------------------------

def test_train_writes_a_resumable_checkpoint_and_prints_the_validation_loss(capsys, text, tmp_path):
    out = tmp_path / "run.npz"
    stdout = train(capsys, text, out, "--steps", 5, "--val-every", 2, "--log-every", 1)
    assert "--steps 5 reached" in stdout and "step      5" in stdout
    final = [line for line in stdout.splitlines() if line.startswith("validation loss")][0]
    assert "nats/char" in final and "bits/char" in final and "perplexity" in final

    arrays = entries(out)  # a plain npz: no pickles
    assert any(k.startswith("optim/exp_avg/") for k in arrays)  # Adam's state
    assert "extra/batches/epoch" in arrays and "extra/batches/state/0/0" in arrays
    ckpt = load_checkpoint(out)
    assert isinstance(ckpt.model, CharRNN) and ckpt.model.config["hidden_size"] == 8
    assert ckpt.step == 5 and ckpt.history.step == [0, 1, 2, 3, 4] and ckpt.history.val_step == [1, 3]
    assert ckpt.vocab.chars == "".join(sorted(set(text.read_text())))
    run_settings = json.loads(ckpt.extra["run"])
    assert run_settings["hidden"] == 8 and run_settings["lr"] == 2e-3 and run_settings["seed"] == 0
    commands = json.loads(ckpt.extra["commands"])
    assert len(commands) == 1 and commands[0].startswith("python -m course_lib train --data ")
    # The printed loss is the one saved, and the one evaluate computes.
    assert f"{ckpt.extra['val_loss']:.4f} nats/char" in final
    code, stdout, _ = run(capsys, "evaluate", "--checkpoint", out)
    assert code == 0 and f"{ckpt.extra['val_loss']:.4f} nats/char" in stdout


def test_sample_prints_the_prime_and_length_characters_the_same_for_a_seed(capsys, text, tmp_path):
    out = tmp_path / "run.npz"
    train(capsys, text, out, "--steps", 3)
    argv = ("sample", "--checkpoint", out, "--prime", "To be", "--length", 40, "--seed", 7)
    code, first, _ = run(capsys, *argv)
    assert code == 0
    assert run(capsys, *argv)[1] == first
    ckpt = load_checkpoint(out)
    assert first == sample(ckpt.model, ckpt.vocab, prime="To be", length=40, temperature=0.8,
                           seed=7) + "\n"
    _, other, _ = run(capsys, "sample", "--checkpoint", out, "--length", 40, "--seed", 8,
                      "--temperature", 0, "--top-k", 3)
    assert len(other) == 41 and set(other[:-1]) <= set(ckpt.vocab.chars)


def test_sample_without_a_seed_prints_the_one_it_drew(capsys, text, tmp_path):
    out = tmp_path / "run.npz"
    train(capsys, text, out, "--steps", 2)
    code, stdout, err = run(capsys, "sample", "--checkpoint", out, "--length", 30)
    seed = int(err.split("--seed ")[1].split(")")[0])
    assert code == 0 and run(capsys, "sample", "--checkpoint", out, "--length", 30, "--seed", seed)[1] == stdout


def test_export_is_weights_only_and_samples_like_the_run(capsys, text, tmp_path):
    out, export = tmp_path / "run.npz", tmp_path / "weights.npz"
    train(capsys, text, out, "--steps", 4, "--export", export, "--dtype", "float64")
    arrays = entries(export)
    assert not any(k.startswith(("optim", "extra/batches/")) for k in arrays)
    assert arrays["param/head.W"].dtype == np.float64
    assert os.path.getsize(export) < os.path.getsize(out)
    argv = ("--length", 30, "--seed", 1)
    assert run(capsys, "sample", "--checkpoint", export, *argv) == run(capsys, "sample", "--checkpoint", out, *argv)
    code, _, err = run(capsys, "train", "--resume", export, "--steps", 8)
    assert code == 2 and "weights-only" in err


# --- resuming ----------------------------------------------------------------------------

# A run that exercises everything a resume must restore: two GRU layers with dropout (its
# masks are drawn from the position in the text), Adam, clipping, a warm-up and cosine
# schedule, and validation in the history. The 1,774 training characters in 4 streams of
# 20 are 22 chunks per epoch, so 25 steps cross an epoch boundary (state reset).
RUN = ["--seq-len", 20, "--cell", "gru", "--layers", 2, "--dropout", 0.3, "--embedding", 5, "--clip", 1.0,
       "--schedule", "cosine", "--decay-steps", 25, "--warmup", 3, "--min-lr", 1e-4, "--val-every", 4, "--seed", 3]
NOT_COMPARED = {"extra/train_seconds", "extra/commands", "extra/run"}  # wall time, argv, budget


def assert_same_run(a, b):
    a, b = entries(a), entries(b)
    assert a.keys() == b.keys()
    for key in sorted(a.keys() - NOT_COMPARED):
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key  # bit for bit
    run_a, run_b = json.loads(a["extra/run"].item()), json.loads(b["extra/run"].item())
    run_a.pop("session"), run_b.pop("session")
    assert run_a == run_b


@pytest.mark.parametrize("k", [7, 22])  # 22: stopped exactly at the end of an epoch
def test_k_steps_then_resume_is_bitwise_the_uninterrupted_run(capsys, text, tmp_path, k):
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    train(capsys, text, whole, *RUN, "--steps", 25)
    train(capsys, text, part, *RUN, "--steps", k)
    assert load_checkpoint(part).step == k
    code, stdout, err = run(capsys, "train", "--resume", part, "--steps", 25)  # writes back to part
    assert code == 0, err
    assert f"resuming {part} at step {k}" in stdout and "25 steps in all" in stdout
    assert_same_run(whole, part)
    assert load_checkpoint(part).history.val_step == [3, 7, 11, 15, 19, 23]


def test_resume_takes_the_saved_settings_and_writes_where_told(capsys, text, tmp_path):
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    train(capsys, text, first, *RUN, "--steps", 4)
    # Settings given again that agree with the checkpoint are fine, --data too.
    code, _, err = run(capsys, "train", "--resume", first, "--data", text, "--cell", "gru",
                       "--seed", 3, "--steps", 6, "--out", second)
    assert code == 0, err
    assert load_checkpoint(first).step == 4 and load_checkpoint(second).step == 6
    commands = json.loads(load_checkpoint(second).extra["commands"])
    assert len(commands) == 2 and "--resume" in commands[1]


def test_ctrl_c_stops_after_the_step_saves_and_resumes_exactly(capsys, text, tmp_path, monkeypatch):
    whole, stopped = tmp_path / "whole.npz", tmp_path / "stopped.npz"
    train(capsys, text, whole, *RUN, "--steps", 12)
    handler = signal.getsignal(signal.SIGINT)
    real_step = TruncatedBPTT.step
    calls = []

    def step_then_ctrl_c(self, batch):
        calls.append(1)
        if len(calls) == 5:
            signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C during step 4
        return real_step(self, batch)

    monkeypatch.setattr(TruncatedBPTT, "step", step_then_ctrl_c)
    code, stdout, err = run(capsys, "train", "--data", text, *TINY, *RUN, "--steps", 12, "--out", stopped)
    assert code == 130 and "Ctrl-C" in err and "stopped by Ctrl-C after step 4" in stdout
    assert signal.getsignal(signal.SIGINT) is handler  # put back
    assert load_checkpoint(stopped).step == 5  # the step in progress was completed, not torn
    monkeypatch.setattr(TruncatedBPTT, "step", real_step)
    assert run(capsys, "train", "--resume", stopped)[0] == 0  # the saved budget: --steps 12
    assert_same_run(whole, stopped)


def test_minutes_is_a_budget_of_training_time_in_all(capsys, text, tmp_path):
    out = tmp_path / "run.npz"
    stdout = train(capsys, text, out, "--minutes", 0.002)  # 0.12 s
    assert "--minutes 0.002 of training reached" in stdout
    ckpt = load_checkpoint(out)
    assert ckpt.step > 0 and 0.12 <= ckpt.extra["train_seconds"] < 5
    code, _, err = run(capsys, "train", "--resume", out)  # the saved budget is spent
    assert code == 2 and "nothing to do" in err and "--minutes" in err
    code, _, err = run(capsys, "train", "--resume", out, "--minutes", 0.004)
    assert code == 0, err
    assert load_checkpoint(out).step > ckpt.step and load_checkpoint(out).extra["train_seconds"] >= 0.24


def test_periodic_checkpoints_are_written_during_the_run(capsys, text, tmp_path, monkeypatch):
    out = tmp_path / "run.npz"
    saved_at = []
    real_save = save_checkpoint

    def spy(path, model, *args, **kwargs):
        saved_at.append(kwargs.get("history").next_step if "history" in kwargs else args[2].next_step)
        return real_save(path, model, *args, **kwargs)

    monkeypatch.setattr("course_lib.cli.train.save_checkpoint", spy)  # what the train command calls
    train(capsys, text, out, "--steps", 7, "--checkpoint-every", 3)
    assert saved_at == [3, 6, 7]


def test_a_loss_that_becomes_nan_is_a_clear_failure(capsys, text, tmp_path, monkeypatch):
    real_step = TruncatedBPTT.step

    def nan_at_step_2(self, batch):
        loss, grads = real_step(self, batch)
        return (float("nan") if self.chunk == 3 else loss), grads

    monkeypatch.setattr(TruncatedBPTT, "step", nan_at_step_2)
    code, _, err = run(capsys, "train", "--data", text, *TINY, "--steps", 5, "--out", tmp_path / "x.npz")
    assert code == 1 and "step 2: the loss is nan" in err and "--lr" in err and "Traceback" not in err


# --- errors: exit code 2 and a message naming the argument, never a traceback ------------------

@pytest.fixture
def files(tmp_path, text, capsys):
    """Files the error cases refer to: a run, its export, non-checkpoints, another model."""
    f = {"text": text, "run": tmp_path / "run.npz", "export": tmp_path / "export.npz",
         "notes": tmp_path / "notes.npz", "classifier": tmp_path / "classifier.npz"}
    train(capsys, text, f["run"], "--steps", 2, "--export", f["export"])
    np.savez(f["notes"], a=np.zeros(3))
    save_checkpoint(f["classifier"], SequenceClassifier(4, 3, 2))
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "short.txt").write_text("tiny text, " * 3)  # 30 to train on: too few for 4 x 8
    (tmp_path / "other.txt").write_text(VERSE * 9)
    return f


NEW = ["train", "--data", "{text}", "--steps", "2", "--out", "{tmp}/x.npz"]
ERRORS = [
    # train: bad values
    (NEW + ["--cell", "lstn"], "invalid choice: 'lstn'"),
    (NEW + ["--optimizer", "adamw"], "invalid choice: 'adamw'"),
    (NEW + ["--hidden", "0"], "--hidden: expected a number >= 1"),
    (NEW + ["--hidden", "many"], "--hidden: expected an integer"),
    (NEW + ["--lr", "-1"], "--lr: expected a number > 0"),
    (NEW + ["--lr", "nan"], "--lr: expected a number > 0"),
    (NEW + ["--dropout", "1"], "--dropout: expected a number in [0, 1)"),
    (NEW + ["--val-fraction", "1.5"], "--val-fraction: expected a number in (0, 1)"),
    (NEW + ["--dtype", "float16"], "invalid choice: 'float16'"),
    (["train", "--data", "{text}", "--out", "{tmp}/x.npz"], "give --steps, --minutes or both"),
    (NEW + ["--schedule", "cosine", "--minutes", "1", "--steps", "0"], "--steps: expected a number >= 1"),
    (["train", "--data", "{text}", "--minutes", "1", "--schedule", "cosine"], "cosine decays over --decay-steps"),
    (NEW + ["--decay-steps", "9"], "--decay-steps is for --schedule cosine"),
    (NEW + ["--momentum", "0.9"], "--momentum applies to sgd and rmsprop"),
    (NEW + ["--min-lr", "1"], "--min-lr 1.0 is above --lr"),
    # train: files
    (NEW[:2] + ["{tmp}/missing.txt"] + NEW[3:], "--data {tmp}/missing.txt: no such file"),
    (NEW[:2] + ["{tmp}"] + NEW[3:], "is a folder"),
    (NEW[:2] + ["{tmp}/latin1.txt"] + NEW[3:], "not UTF-8 text"),
    (NEW[:2] + ["{tmp}/short.txt"] + NEW[3:], "too few"),
    (NEW + ["--val-fraction", "0.0001"], "--val-fraction 0.0001: the validation part would have 0 characters"),
    (NEW + ["--val-fraction", "0.9999"], "--val-fraction 0.9999: the training part would have 0 characters"),
    (NEW + ["--out", "{tmp}/no/such/folder/x.npz"], "--out {tmp}/no/such/folder/x.npz: the folder"),
    (NEW + ["--export", "{tmp}/x.npz"], "the same file as --out"),
    (NEW[:-1] + ["{tmp}/run.npz"], "--out {tmp}/run.npz: the file exists; continue its run with --resume"),
    (NEW[:-1] + ["{tmp}/run.npz", "--overwrite", "--hidden", "8", "--seq-len", "8", "--batch-size", "4"], None),
    # train --resume
    (["train", "--resume", "{tmp}/missing.npz"], "--resume {tmp}/missing.npz: no such file"),
    (["train", "--resume", "{text}"], "not a checkpoint"),
    (["train", "--resume", "{tmp}/notes.npz"], "not a course_lib checkpoint"),
    (["train", "--resume", "{tmp}/classifier.npz"], "a checkpoint of SequenceClassifier, not of a character model"),
    (["train", "--resume", "{tmp}/export.npz", "--steps", "9"], "weights-only"),
    (["train", "--resume", "{tmp}/run.npz", "--steps", "9", "--hidden", "16"], "--hidden 16 differs from the checkpoint's 8"),
    (["train", "--resume", "{tmp}/run.npz", "--steps", "9", "--cell", "rnn"], "--cell rnn differs"),
    (["train", "--resume", "{tmp}/run.npz", "--steps", "9", "--lr", "0.1"], "--lr 0.1 differs"),
    (["train", "--resume", "{tmp}/run.npz", "--steps", "9", "--data", "{tmp}/other.txt"], "not the text"),
    (["train", "--resume", "{tmp}/run.npz", "--steps", "2"], "already at step 2; nothing to do"),
    # sample and evaluate
    (["sample", "--checkpoint", "{tmp}/missing.npz"], "--checkpoint {tmp}/missing.npz: no such file"),
    (["sample", "--checkpoint", "{text}"], "not a checkpoint"),
    (["sample", "--checkpoint", "{tmp}/classifier.npz"], "SequenceClassifier, not of a character model"),
    (["sample", "--checkpoint", "{tmp}/run.npz", "--prime", "Zebra"], "--prime: 'Z' not in the model's vocabulary"),
    (["sample", "--checkpoint", "{tmp}/run.npz", "--temperature", "-1"], "--temperature: expected a number >= 0"),
    (["sample", "--checkpoint", "{tmp}/run.npz", "--top-k", "0"], "--top-k: expected a number >= 1"),
    (["sample", "--checkpoint", "{tmp}/run.npz", "--length", "-5"], "--length: expected a number >= 0"),
    (["evaluate", "--checkpoint", "{tmp}/run.npz", "--data", "{tmp}/latin1.txt"], "not UTF-8"),
    (["evaluate", "--checkpoint", "{tmp}/run.npz", "--data", "{tmp}/other.txt", "--val-fraction", "0.5"], None),
    (["evaluate", "--checkpoint", "{tmp}/classifier.npz"], "not of a character model"),
]


@pytest.mark.parametrize("argv, message", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_bad_arguments_are_usage_errors_with_exit_code_2(capsys, files, tmp_path, argv, message):
    argv = [a.format(text=files["text"], tmp=tmp_path) for a in argv]
    code, _, err = run(capsys, *argv)
    if message is None:  # a control: the same command with good arguments works
        assert code == 0, err
        return
    assert code == 2, err
    assert "Traceback" not in err and f"python -m course_lib {argv[0]}: error:" in err
    assert "usage: python -m course_lib " + argv[0] in err
    assert message.format(tmp=tmp_path) in err


def test_evaluate_text_with_characters_outside_the_vocabulary(capsys, files, tmp_path):
    (tmp_path / "other_chars.txt").write_text("Qx" * 100)
    code, _, err = run(capsys, "evaluate", "--checkpoint", files["run"], "--data", tmp_path / "other_chars.txt")
    assert code == 2 and "is not in the vocabulary" in err


# --- fetch ----------------------------------------------------------------------------------

@pytest.fixture
def tiny_dataset(monkeypatch, tmp_path):
    """A dataset ``tiny`` of two files, registered like the real ones, in a mirror folder."""
    import hashlib

    from course_lib.data import download

    mirror = tmp_path / "mirror"
    (mirror / "tiny").mkdir(parents=True)
    for name, body in {"tiny/a.txt": b"first file\n", "tiny/b.txt": b"second\n"}.items():
        (mirror / name).write_bytes(body)
        digest = hashlib.sha256(body).hexdigest()
        monkeypatch.setitem(download.FILES, name, download.DataFile(f"https://example.invalid/{name}",
                                                                     f"sha256:{digest}", len(body)))
    monkeypatch.setitem(cli.DATASETS, "tiny", "tiny/")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return mirror, tmp_path / "data"


def test_fetch_copies_and_verifies_each_file_of_a_dataset(capsys, tiny_dataset):
    mirror, data = tiny_dataset
    code, out, _ = run(capsys, "fetch", "tiny")
    assert code == 0
    assert (data / "tiny" / "a.txt").read_bytes() == b"first file\n"
    assert (data / "tiny" / "b.txt").read_bytes() == b"second\n"
    assert out.count("checksum OK") == 2


def test_fetch_reports_a_corrupt_mirror_file_as_a_failure(capsys, tiny_dataset):
    mirror, data = tiny_dataset
    (mirror / "tiny" / "b.txt").write_bytes(b"SECOND\n")  # same size, wrong bytes
    code, _, err = run(capsys, "fetch", "tiny")
    assert code == 1
    assert "tiny:" in err and "b.txt" in err
    assert not (data / "tiny" / "b.txt").exists(), "a file that fails its checksum must not be left behind"


def test_fetch_knows_only_the_course_datasets(capsys):
    code, _, err = run(capsys, "fetch", "imagenet")
    assert code == 2 and "unknown dataset 'imagenet'" in err
    for name in cli.DATASETS:
        assert name in err


def test_fresh_starts_are_a_run_setting_and_older_runs_resume_without_them(capsys, text, tmp_path, monkeypatch):
    """--fresh-every (default 50) reaches TruncatedBPTT and is saved with the run; a run saved
    before the setting existed resumes with none, so it goes on as it began."""
    seen = []
    real_init = TruncatedBPTT.__init__

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("fresh_state_every"))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(TruncatedBPTT, "__init__", spy)
    default, every_3, never = tmp_path / "default.npz", tmp_path / "every3.npz", tmp_path / "never.npz"
    train(capsys, text, default, "--steps", 2)
    train(capsys, text, every_3, "--steps", 2, "--fresh-every", 3)
    train(capsys, text, never, "--steps", 2, "--fresh-every", 0)
    assert seen == [50, 3, None]
    assert [json.loads(load_checkpoint(p).extra["run"])["fresh_every"] for p in (default, every_3, never)] == [50, 3, 0]

    # A run saved before fresh starts existed: its settings have no "fresh_every".
    arrays = entries(default)
    settings = json.loads(str(arrays["extra/run"]))
    del settings["fresh_every"]
    arrays["extra/run"] = np.asarray(json.dumps(settings))
    older = tmp_path / "older.npz"
    np.savez(older, **arrays)
    code, _, err = run(capsys, "train", "--resume", older, "--steps", 3, "--out", tmp_path / "resumed.npz")
    assert code == 0, err
    assert seen[-1] is None
    code, _, err = run(capsys, "train", "--resume", older, "--fresh-every", 50, "--steps", 3,
                       "--out", tmp_path / "changed.npz")
    assert code == 2 and "--fresh-every 50 differs from the checkpoint's 0" in err
