"""course_lib.data.vocab.CharVocab: sorted ids, round trips, clear errors, checkpoint form."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.data.vocab import CharVocab

REPO = Path(__file__).resolve().parent.parent
TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n"


def test_ids_follow_sorted_order():
    vocab = CharVocab.from_text(TEXT)
    assert vocab.chars == "".join(sorted(set(TEXT)))
    assert vocab.size == len(vocab) == len(set(TEXT))
    assert vocab.encode(vocab.chars).tolist() == list(range(vocab.size))
    assert CharVocab.from_text("hello").encode("hole").tolist() == [1, 3, 2, 0]  # 'ehlo'


def test_order_does_not_depend_on_the_hash_seed():
    # A set of strings iterates in an order that changes with PYTHONHASHSEED; the
    # vocabulary must not. Build it in two interpreters with different seeds.
    code = (
        "from course_lib.data.vocab import CharVocab;"
        "text = ''.join(chr(c) for c in range(1200, 32, -7));"
        "vocab = CharVocab.from_text(text);"
        "print([ord(c) for c in vocab.chars], vocab.encode(text[:20]).tolist())"
    )
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]


def test_round_trip_and_dtype():
    vocab = CharVocab.from_text(TEXT)
    ids = vocab.encode(TEXT)
    assert ids.shape == (len(TEXT),) and ids.dtype == np.int64
    assert vocab.decode(ids) == TEXT
    assert vocab.decode(list(ids)) == TEXT  # any integer sequence
    assert vocab.encode("").shape == (0,) and vocab.decode([]) == ""


@given(st.text(min_size=1, max_size=200))
def test_round_trip_any_text(text):
    # Any Unicode, including "\0", surrogates and characters beyond the BMP.
    vocab = CharVocab.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text
    assert CharVocab.from_array(vocab.to_array()) == vocab


def test_unknown_character_shows_it_and_its_position():
    vocab = CharVocab.from_text("abc")
    with pytest.raises(ValueError) as err:
        vocab.encode("abcab\u00e9ca\u00e9")
    msg = str(err.value)
    assert "'\u00e9'" in msg and "U+00E9" in msg and "position 5" in msg
    assert "2 unknown characters" in msg
    # Below and above every vocabulary character: the binary search's edges.
    with pytest.raises(ValueError, match=r"'\\n' \(U\+000A\) at position 1"):
        vocab.encode("a\nb")
    with pytest.raises(ValueError, match=r"'z' \(U\+007A\) at position 0 .*3 characters$"):
        vocab.encode("z")


def test_bad_ids_in_decode():
    vocab = CharVocab.from_text("abc")
    with pytest.raises(ValueError, match=r"id 3 at position 2 .*0 to 2"):
        vocab.decode([0, 1, 3])
    with pytest.raises(ValueError, match=r"id -1 at position 0"):
        vocab.decode([-1])
    with pytest.raises(ValueError, match="integers"):
        vocab.decode(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"1-D array \(L,\)"):
        vocab.decode(np.zeros((2, 2), dtype=np.int64))


def test_constructor_wants_sorted_distinct_characters():
    assert CharVocab("abc").chars == "abc"
    for chars in ("ba", "aab"):
        with pytest.raises(ValueError, match="sorted"):
            CharVocab(chars)
    with pytest.raises(ValueError, match="at least one"):
        CharVocab("")
    with pytest.raises(TypeError):
        CharVocab(["a", "b"])


def test_saves_in_an_npz_without_pickle(tmp_path):
    vocab = CharVocab.from_text("\0" + TEXT + "\u00e9\U0001f600")  # "\0" and non-BMP too
    path = tmp_path / "ckpt.npz"
    np.savez(path, vocab=vocab.to_array(), W=np.zeros((2, 2)))
    with np.load(path, allow_pickle=False) as f:
        restored = CharVocab.from_array(f["vocab"])
    assert restored == vocab and restored.chars == vocab.chars
    assert vocab.to_array().dtype == np.uint32 and vocab.to_array().shape == (vocab.size,)
    with pytest.raises(ValueError, match="code points"):
        CharVocab.from_array(np.array([-1, 5]))


def test_repr_is_short():
    assert repr(CharVocab("abc")) == "CharVocab(size=3, chars='abc')"
    assert len(repr(CharVocab.from_text("".join(map(chr, range(40, 200)))))) < 80
