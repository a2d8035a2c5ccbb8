"""Text data: load_text (any UTF-8 file, split as nanoGPT does) and the embedded tinyshakespeare."""

import hashlib

import numpy as np
import pytest

import gradwise as gw
from gradwise.data import DataError, TextData


def test_tinyshakespeare_is_shipped_and_split_as_nanogpt_splits_it():
    text = gw.data.load("tinyshakespeare")
    assert isinstance(text, TextData) and text.source == "embedded in gradwise"
    assert len(text.vocab) == 65 and text.vocab == "".join(sorted(set(text.vocab)))
    assert (len(text.train), len(text.val)) == (1_003_854, 111_540)     # nanoGPT's prepare.py
    assert text.train.dtype == np.int32
    assert text.decode(text.train[:14]) == "First Citizen:"
    whole = (text.decode(text.train) + text.decode(text.val)).encode()
    assert hashlib.sha256(whole).hexdigest() == gw.data.sources.TINYSHAKESPEARE.sha256


def test_a_copy_in_the_data_folder_is_checked(tmp_path):
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare" / "input.txt").write_text("not Shakespeare at all")
    with pytest.raises(DataError, match="input.txt: checksum mismatch.*delete it"):
        gw.data.load("tinyshakespeare", data_dir=tmp_path)


def test_load_text_any_utf8_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("héllo wörld, " * 10, encoding="utf-8")
    text = gw.data.load_text(path)
    assert text.vocab == "".join(sorted(set("héllo wörld, ")))
    assert (len(text.train), len(text.val)) == (117, 13)
    assert text.decode(text.encode("wörld")) == "wörld"
    with pytest.raises(ValueError, match=r"--prompt has 2 character\(s\) the model has never seen \('Q', 'Z'\)"):
        text.encode("QZ héllo", who="--prompt")


@pytest.mark.parametrize("content, message", [
    (b"caf\xe9 au lait", r"not UTF-8 text \(byte 0xe9 at offset 3\); save it as UTF-8"),
    (b"", "the text is empty"),
    (b"aaaaaaaa", r"the text has 8 character\(s\), all 'a': there is nothing to predict"),
    (b"abc", "the text has 3 characters, too few to split 90/10"),
])
def test_bad_text_names_the_file_and_the_fix(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=f"bad.txt: {message}"):
        gw.data.load_text(path)
    with pytest.raises(DataError, match="no such file"):
        gw.data.load_text(tmp_path / "missing.txt")
