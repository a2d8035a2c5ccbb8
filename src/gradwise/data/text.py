"""Text for character-level language models: a file becomes token ids and a vocabulary.

    text = gradwise.data.load_text("my_novel.txt")     # any UTF-8 text
    text = gradwise.data.load("tinyshakespeare")       # shipped inside gradwise
    text.vocab            # 'sorted set of the characters', index = token id
    text.train, text.val  # int32 ids: the first 90% of the characters, the last 10%
    text.decode(text.encode("To be"))  -> 'To be'

nanoGPT's convention (``data/shakespeare_char/prepare.py``): the vocabulary is the sorted
set of the characters of the *whole* text, and the split is by position, not at random, so
that validation is text the model has never read a word of.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError

TRAIN_SHARE = 0.9          # the first 90% of the characters train, the last 10% validate
MAX_TEXT_BYTES = 1 << 30   # a bigger file is no text to train a character model on here


@dataclass
class TextData:
    """A text as a character model reads it.

    Attributes:
        name: the data set's name (``tinyshakespeare``) or the file's path.
        vocab: the distinct characters, sorted; token id ``i`` is ``vocab[i]``.
        train: (N_train,) int32 token ids, the first 90% of the text.
        val: (N_val,) int32 token ids, the last 10%.
        source: where the text came from.
    """
    name: str
    vocab: str
    train: np.ndarray
    val: np.ndarray
    source: str = ""

    def encode(self, text: str, who: str = "text") -> np.ndarray:
        """The ids of ``text``'s characters; a ValueError (naming ``who``) for a character
        that is not in the vocabulary."""
        return encode(text, self.vocab, who)

    def decode(self, ids) -> str:
        return "".join(self.vocab[i] for i in np.asarray(ids).reshape(-1))

    def __repr__(self) -> str:
        return (f"TextData({self.name!r}, {len(self.vocab)} characters, train {len(self.train):,} / "
                f"val {len(self.val):,} tokens, from {self.source})")


def encode(text: str, vocab: str, who: str = "text") -> np.ndarray:
    """``text`` as (len(text),) int32 ids of ``vocab`` (a sorted string of distinct characters)."""
    unknown = sorted(set(text) - set(vocab))
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise ValueError(f"{who} has {len(unknown)} character(s) the model has never seen ({shown}); "
                         f"use only characters of its vocabulary: {vocab!r:.80}")
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)      # (N,) code points
    table = np.frombuffer(vocab.encode("utf-32-le"), dtype=np.uint32)     # (V,) sorted
    return np.searchsorted(table, codes).astype(np.int32)                # (N,) ids: position in vocab


def text_data(text: str, name: str, source: str) -> TextData:
    """Split ``text`` as nanoGPT does (vocabulary of the whole text, first 90% / last 10%);
    DataError naming ``source`` for a text too small to learn from."""
    vocab = "".join(sorted(set(text)))
    if len(text) == 0:
        raise DataError(f"{source}: the text is empty; a character model needs a text of "
                        f"thousands of characters (any UTF-8 file)")
    if len(vocab) < 2:
        raise DataError(f"{source}: the text has {len(text):,} character(s), all {vocab!r}: there is "
                        f"nothing to predict; use a text of thousands of characters with more "
                        f"than one distinct character")
    n = int(TRAIN_SHARE * len(text))
    if n < 2 or len(text) - n < 2:
        raise DataError(f"{source}: the text has {len(text)} characters, too few to split 90/10 into "
                        f"training and validation text; use a text of thousands of characters")
    ids = encode(text, vocab, source)
    return TextData(name, vocab, ids[:n], ids[n:], source)


def decode_utf8(raw: bytes, source: str) -> str:
    """``raw`` as UTF-8 text (a leading byte-order mark dropped), or a DataError naming the
    first bad byte and the fix."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise DataError(f"{source}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start:,}); "
                        f"save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8)") from None


def load_text(path, *, name: str | None = None) -> TextData:
    """Read a UTF-8 text file as a character-level data set.

    Args:
        path: the file.
        name: what to call the data set (default: the path as given).

    Returns a TextData: ``vocab`` (the sorted set of characters), ``train`` (the first 90%
    of the characters as int32 ids) and ``val`` (the last 10%).

    Raises DataError, naming the file, for a file that is missing, not UTF-8, empty, of one
    distinct character, or over 1 GiB.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TEXT_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; give the text file inside it") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror})") from None
    if len(raw) > MAX_TEXT_BYTES:
        raise DataError(f"{path}: larger than {MAX_TEXT_BYTES:,} bytes; use a part of it "
                        f"(head -c 100M {path} > part.txt)")
    return text_data(decode_utf8(raw, str(path)), name or str(path), str(path))
