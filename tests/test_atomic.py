"""Atomic writes: a file appears whole or not at all, with ordinary permissions."""

import os

import pytest

from kocr_sdk.atomic import atomic_path, write_text_atomic


def test_written_file_is_whole_and_readable_by_the_umask(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_text_atomic(target, "한글 {}\n", sync=True)
    assert target.read_text(encoding="utf-8") == "한글 {}\n"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target, suffix=".png") as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".png"
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.png"]
