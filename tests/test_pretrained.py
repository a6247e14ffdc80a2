"""The checkpoint shipped in course_lib/pretrained/: it loads safely, it is what its README
records, it is good (validation loss < 1.75 nats/char on tiny-shakespeare), and it samples
deterministically.

Sampling speed (500 characters in < 0.2 s) is a goal, not a test: see
``benchmarks/bench_sampling.py``.
"""

import hashlib
import json
import os
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from course_lib import cli
from course_lib.data.batching import train_val_split
from course_lib.data.datasets import load_tinyshakespeare
from course_lib.models import CharRNN
from course_lib.pretrained import available, load_pretrained
from course_lib.sampling import sample
from course_lib.training import evaluate_lm

pytestmark = pytest.mark.filterwarnings("error")

REPO = Path(__file__).resolve().parent.parent
FOLDER = REPO / "course_lib" / "pretrained"
FILE = FOLDER / "shakespeare_lstm.npz"
README = FOLDER / "README.md"
MIRROR = os.environ.get("COURSE_DATA_MIRROR") or str(REPO.parent / "shared" / "data")
# The recipe the README records: 1-layer LSTM, one-hot input, hidden 256, float32.
CONFIG = {"model": "CharRNN", "vocab_size": 65, "hidden_size": 256, "cell": "lstm", "num_layers": 1,
          "embedding_dim": None, "dropout": 0.0}
RECIPE = {"data": "shakespeare", "cell": "lstm", "hidden": 256, "layers": 1, "embedding": 0,
          "dropout": 0.0, "seq_len": 100, "batch_size": 64, "optimizer": "adam", "lr": 2e-3,
          "clip": 5.0, "schedule": "constant", "val_fraction": 0.1, "seed": 0, "dtype": "float32"}


@pytest.fixture(scope="module")
def ckpt():
    return load_pretrained("shakespeare_lstm")


@pytest.fixture(scope="module")
def val_ids(ckpt):
    """The last 10% of tiny-shakespeare (111,539 characters), as the training run split it."""
    if not Path(MIRROR, "tinyshakespeare", "input.txt").is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the dataset mirror {MIRROR} has no tinyshakespeare/input.txt")
        pytest.skip(f"tiny-shakespeare is not available (no mirror at {MIRROR})")
    text = load_tinyshakespeare(mirror=MIRROR, progressbar=False)
    _, val = train_val_split(ckpt.vocab.encode(text), val_size=0.1)
    assert len(val) == 111_539
    return val


def test_the_file_is_shipped_small_and_found_through_importlib_resources():
    assert available() == ["shakespeare_lstm"]
    ref = resources.files("course_lib") / "pretrained" / "shakespeare_lstm.npz"
    assert ref.is_file() and Path(str(ref)).resolve() == FILE.resolve()
    assert FILE.stat().st_size < 2_000_000


def test_it_is_a_plain_npz_of_float32_weights_without_optimizer_state():
    with np.load(FILE, allow_pickle=False) as f:  # raises if anything needs a pickle
        keys = set(f.files)
        params = {k: f[k] for k in keys if k.startswith("param/")}
    assert not any(k.startswith(("optim", "extra/batches/")) for k in keys)
    assert params and all(a.dtype == np.float32 for a in params.values())


def test_its_config_and_settings_are_the_recorded_recipe(ckpt):
    assert isinstance(ckpt.model, CharRNN) and ckpt.config == CONFIG
    assert ckpt.vocab.size == 65 and ckpt.vocab.chars[:3] == "\n !"
    run = json.loads(ckpt.extra["run"])
    assert {k: run[k] for k in RECIPE} == RECIPE
    assert ckpt.history.next_step == ckpt.step and ckpt.extra["val_after_steps"] == ckpt.step


def test_the_readme_records_its_commands_sha256_and_loss(ckpt):
    readme = README.read_text(encoding="utf-8")
    assert hashlib.sha256(FILE.read_bytes()).hexdigest() in readme
    for command in json.loads(ckpt.extra["commands"]):  # as run, in order
        assert command in readme
    assert f"{ckpt.extra['val_loss']:.4f}" in readme and f"{ckpt.step:,}" in readme


def test_validation_loss_is_below_1_75_nats_per_char(ckpt, val_ids):
    # The whole validation part, read as one stream (as the training run measured it).
    loss = evaluate_lm(ckpt.model, val_ids, batch_size=1, seq_len=cli.EVAL_CHUNK)
    assert loss < 1.75
    assert loss == pytest.approx(ckpt.extra["val_loss"], abs=1e-3)  # what the README says


def test_sampling_is_deterministic_for_a_seed(ckpt):
    a = sample(ckpt.model, ckpt.vocab, prime="ROMEO:", length=200, temperature=0.8, seed=1)
    assert a == sample(ckpt.model, ckpt.vocab, prime="ROMEO:", length=200, temperature=0.8, seed=1)
    assert a != sample(ckpt.model, ckpt.vocab, prime="ROMEO:", length=200, temperature=0.8, seed=2)
    assert a.startswith("ROMEO:") and len(a) == 206


def test_it_has_learned_english_words(ckpt):
    text = sample(ckpt.model, ckpt.vocab, prime="\n", length=500, temperature=0.5, seed=0)
    words = re.findall(r"[a-z]+", text.lower())
    common = {"the", "and", "to", "of", "i", "you", "my", "a", "that", "in", "is", "not", "me", "it"}
    assert sum(w in common for w in words) >= 0.2 * len(words)


def test_cli_sample_uses_it_by_default(capsys, ckpt):
    assert cli.main(["sample", "--prime", "KING", "--length", "80", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out == sample(ckpt.model, ckpt.vocab, prime="KING", length=80, temperature=0.8, seed=3) + "\n"
