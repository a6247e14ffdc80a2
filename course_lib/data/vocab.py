"""A character vocabulary: text <-> integer ids, for character-level language models.

The ids are the positions of the characters in the sorted list of distinct characters
of the training text. Sorted, and not in ``set`` order, because the order of a ``set``
of strings changes from run to run (Python salts string hashes, see
``PYTHONHASHSEED``): a model trained with one order and sampled with another would
print gibberish.

    >>> vocab = CharVocab.from_text("hello")
    >>> vocab.chars
    'ehlo'
    >>> vocab.encode("hole")
    array([1, 3, 2, 0])
    >>> vocab.decode([1, 0, 2, 2, 3])
    'hello'
"""

import numpy as np

from .._checks import check_ndim


def _code_points(text):
    """The Unicode code points of ``text`` as a uint32 array, one per character.

    UTF-32 spends exactly 4 bytes on every character, so its bytes *are* the code
    points: one call instead of a Python loop over a million characters.
    """
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


class CharVocab:
    """The distinct characters of a text, in sorted order; id ``i`` is ``chars[i]``.

    Use :meth:`from_text` to build a vocabulary from a text.

    Args:
        chars: the characters, as one string, sorted and without repeats
            (refused otherwise: then the ids would depend on who built it).

    Raises:
        TypeError: ``chars`` is not a ``str``.
        ValueError: ``chars`` is empty, not sorted, or repeats a character.

    Attributes:
        chars: the vocabulary as one string, sorted, no repeats.
        size: the number of characters (also ``len(vocab)``).
    """

    def __init__(self, chars):
        """Use :meth:`from_text` to build a vocabulary from a text; arguments: see the class."""
        if not isinstance(chars, str):
            raise TypeError(f"chars: expected a str, got {type(chars).__name__}")
        if not chars:
            raise ValueError("chars: a vocabulary needs at least one character")
        codes = _code_points(chars)
        if np.any(np.diff(codes.astype(np.int64)) <= 0):
            raise ValueError(
                "chars: expected distinct characters in sorted order; "
                "use CharVocab.from_text(text) to build a vocabulary"
            )
        self.chars = chars
        # Sorted code points: encoding is then a binary search (np.searchsorted).
        self._codes = codes

    @classmethod
    def from_text(cls, text):
        """The vocabulary of every character that occurs in ``text``.

        Args:
            text: a ``str``, e.g. the whole training text.

        Returns:
            CharVocab: its distinct characters, sorted.

        Raises:
            ValueError: ``text`` is empty.
        """
        return cls("".join(sorted(set(text))))

    @property
    def size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def __eq__(self, other):
        return isinstance(other, CharVocab) and self.chars == other.chars

    def __hash__(self):
        return hash(self.chars)

    def __repr__(self):
        shown = self.chars if self.size <= 40 else self.chars[:37] + "..."
        return f"CharVocab(size={self.size}, chars={shown!r})"

    def encode(self, text):
        """Text -> ids.

        Args:
            text: a ``str`` of length L.

        Returns:
            int64 array ``(L,)``: ``ids[i]`` is the id of ``text[i]``.

        Raises:
            TypeError: ``text`` is not a ``str``.
            ValueError: a character of ``text`` is not in the vocabulary; the message
                shows the first one and its position.
        """
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {type(text).__name__}")
        codes = _code_points(text)
        ids = np.searchsorted(self._codes, codes)
        # searchsorted gives where each code *would* go; it is the character's id only
        # if the vocabulary holds that very code there.
        found = self._codes[np.minimum(ids, self.size - 1)] == codes
        if not found.all():
            unknown = np.flatnonzero(~found)
            pos = int(unknown[0])
            char = text[pos]
            more = f" ({len(unknown)} unknown characters in all)" if len(unknown) > 1 else ""
            raise ValueError(
                f"character {char!r} (U+{ord(char):04X}) at position {pos} is not in the "
                f"vocabulary of {self.size} characters{more}"
            )
        return ids.astype(np.int64)

    def decode(self, ids):
        """Ids -> text.

        Args:
            ids: integer array-like ``(L,)``.

        Returns:
            ``str`` of length L.

        Raises:
            ValueError: ``ids`` is not 1-D or not integer, or an id is outside
                ``0 .. size - 1``; the message shows the first one and its position.
        """
        ids = np.asarray(ids)
        if ids.size == 0:
            ids = ids.astype(np.int64)  # [] comes in as float64
        check_ndim("ids", ids, 1, "(L,)")
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids: expected integers, got dtype {ids.dtype}")
        bad = (ids < 0) | (ids >= self.size)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"id {ids[pos]} at position {pos} is not in the vocabulary "
                f"(ids run from 0 to {self.size - 1})"
            )
        # The inverse of _code_points: code points back to UTF-32 bytes, then to str.
        return self._codes[ids].tobytes().decode("utf-32-le", "surrogatepass")

    def to_array(self):
        """The vocabulary as a plain array, for ``np.savez`` (no pickle needed).

        Returns:
            uint32 array ``(size,)`` of the characters' code points, in id order.

        Code points rather than a NumPy string: NumPy strips trailing ``"\\0"``
        characters from its strings, and a vocabulary may hold one.

            np.savez(path, vocab=vocab.to_array(), ...)
            vocab = CharVocab.from_array(np.load(path)["vocab"])
        """
        return self._codes.copy()

    @classmethod
    def from_array(cls, codes):
        """Inverse of :meth:`to_array`.

        Args:
            codes: integer array ``(size,)`` of code points, as :meth:`to_array` returns.

        Returns:
            CharVocab: the vocabulary of those characters.

        Raises:
            ValueError: ``codes`` is not a 1-D integer array of Unicode code points (0 to
                0x10FFFF), or is empty, not sorted, or has repeats.
        """
        codes = np.asarray(codes)
        check_ndim("codes", codes, 1, "(size,)")
        if not np.issubdtype(codes.dtype, np.integer):
            raise ValueError(f"codes: expected integer code points, got dtype {codes.dtype}")
        if codes.size and (codes.min() < 0 or codes.max() > 0x10FFFF):
            raise ValueError("codes: Unicode code points run from 0 to 0x10FFFF")
        return cls(codes.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass"))
