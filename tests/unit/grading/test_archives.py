"""Unpacking what learners hand in: nothing in a zip reaches outside its folder, and a zip
bomb is refused before it fills the disk."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from sfnlab.grading.archives import MAX_UNPACKED_BYTES, ArchiveRefused, Limits, unpack


def make_zip(path: Path, entries: list[tuple[str, bytes]], mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            archive.writestr(info, data)
    return path


def refusal(archive: Path, target: Path, limits: Limits | None = None) -> str:
    with pytest.raises(ArchiveRefused) as refused:
        unpack(archive, target, limits)
    assert not target.exists(), "a refused zip leaves nothing behind"
    return refused.value.message


def test_a_plain_zip_unpacks_into_its_folder(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("lambdas/x.py", b"x = 1"), ("README", b"hi")])
    assert unpack(archive, tmp_path / "out") == [Path("lambdas/x.py"), Path("README")]
    assert (tmp_path / "out" / "lambdas" / "x.py").read_text() == "x = 1"


@pytest.mark.parametrize(
    "name", ["../escaped.py", "lambdas/../../escaped.py", "/tmp/escaped.py", "C:/escaped.py"]
)
def test_a_path_out_of_the_folder_is_refused(tmp_path, name):
    archive = make_zip(tmp_path / "evil.zip", [("ok.py", b""), (name, b"owned")])
    assert "points outside its folder" in refusal(archive, tmp_path / "out" / "inner")
    assert list((tmp_path / "out").iterdir()) == []  # not even ok.py: refused before writing
    assert not (tmp_path / "escaped.py").exists() and not Path("/tmp/escaped.py").exists()


def test_a_backslash_path_is_refused(tmp_path):
    archive = make_zip(tmp_path / "evil.zip", [("..\\..\\escaped.py", b"owned")])
    assert "is not a safe path" in refusal(archive, tmp_path / "out")


def test_a_link_is_refused(tmp_path):
    archive = make_zip(
        tmp_path / "link.zip",
        [("lambdas/stolen.py", b"/root/.aws/credentials")],
        mode=stat.S_IFLNK | 0o777,
    )
    assert "has a link" in refusal(archive, tmp_path / "out")


def test_a_device_file_is_refused(tmp_path):
    archive = make_zip(tmp_path / "fifo.zip", [("pipe", b"")], mode=stat.S_IFIFO | 0o644)
    assert "not a plain file" in refusal(archive, tmp_path / "out")


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", [("lambdas/create_code.py", b"\0" * 20_000_000)])
    assert archive.stat().st_size < 100_000
    assert "a zip bomb?" in refusal(archive, tmp_path / "out")


def test_a_zip_bomb_is_refused_by_its_size_even_when_it_lies_about_it(tmp_path):
    """Sizes in the zip's directory are the zip's word; what comes out is counted."""
    data = bytes(range(256)) * (MAX_UNPACKED_BYTES // 256 + 1024)  # barely compressible
    archive = make_zip(tmp_path / "big.zip", [("big.bin", data)])
    assert "unpacks to more than 32 MB" in refusal(archive, tmp_path / "out")
    liar = tmp_path / "liar.zip"
    raw = bytearray(archive.read_bytes())
    # Claim 10 bytes unpacked in the central directory and the local header alike.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.index(signature)
        raw[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    liar.write_bytes(bytes(raw))
    message = refusal(liar, tmp_path / "out2")
    assert "cannot be unpacked" in message or "more than" in message
    assert not (tmp_path / "out2").exists()


def test_too_many_entries_are_refused(tmp_path):
    archive = make_zip(tmp_path / "many.zip", [(f"f{n}.py", b"") for n in range(20)])
    assert "has 20 entries" in refusal(archive, tmp_path / "out", Limits(entries=10))


def test_a_name_twice_is_refused(tmp_path):
    with pytest.warns(UserWarning):  # zipfile itself warns of the duplicate
        archive = make_zip(tmp_path / "twice.zip", [("a.py", b"1"), ("a.py", b"2")])
    assert "twice" in refusal(archive, tmp_path / "out")


def test_what_a_mac_adds_is_skipped(tmp_path):
    archive = make_zip(
        tmp_path / "mac.zip",
        [("sol/a.py", b"1"), ("__MACOSX/sol/._a.py", b"junk"), ("sol/.DS_Store", b"junk")],
    )
    assert unpack(archive, tmp_path / "out") == [Path("sol/a.py")]


def test_what_is_not_a_zip_is_refused(tmp_path):
    (tmp_path / "fake.zip").write_text("not a zip")
    assert "is not a zip that can be read" in refusal(tmp_path / "fake.zip", tmp_path / "out")


def test_a_damaged_zip_is_refused(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", [("a.py", b"print('hello')" * 100)])
    raw = bytearray(archive.read_bytes())
    raw[40:60] = b"\xff" * 20  # inside the compressed data
    archive.write_bytes(bytes(raw))
    assert "cannot be unpacked" in refusal(archive, tmp_path / "out")


@pytest.mark.parametrize("limits", [{"entries": 0}, {"unpacked_bytes": -1}, {"ratio": -5}])
def test_limits_below_one_are_refused(limits):
    with pytest.raises(ValueError):
        Limits(**limits)


def test_an_existing_target_is_not_unpacked_into(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("a.py", b"1")])
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError):
        unpack(archive, tmp_path / "out")


def test_a_zip_in_memory_of_the_submission_kind_unpacks(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("definitions/SolveIssueStepFunction.json", "{}")
    (tmp_path / "s.zip").write_bytes(buffer.getvalue())
    assert unpack(tmp_path / "s.zip", tmp_path / "out") == [
        Path("definitions/SolveIssueStepFunction.json")
    ]
