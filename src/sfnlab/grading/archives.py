"""Zips learners hand in, unpacked so that nothing in them can reach outside their folder.

A zip names its own paths, sizes and file types, and a hostile or broken one lies: an entry
`../../.bashrc` or `/etc/cron.d/x`, a link to `~/.aws/credentials`, a few KB that inflate to
gigabytes (a zip bomb), a hundred thousand entries. `unpack()` refuses all of that before
it writes anything it should not: only plain files and folders, every path inside the
target, and limits on entries, on the total unpacked size (counted as the bytes come out,
not as the zip says) and on how much each entry inflates. What a platform adds beside a
learner's files (`__MACOSX/`, `.DS_Store`) is skipped.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sfnlab.errors import LearnerError

MAX_ENTRIES = 500
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed, for an entry above RATIO_FROM bytes unpacked
RATIO_FROM = 64 * 1024
MAX_NAME_LENGTH = 255
CHUNK = 64 * 1024
SKIPPED = ("__MACOSX/", ".DS_Store", "Thumbs.db")


class ArchiveRefused(LearnerError):
    """A zip the grader will not unpack: unsafe, too large, or not a zip at all."""


@dataclass(frozen=True)
class Limits:
    entries: int = MAX_ENTRIES
    unpacked_bytes: int = MAX_UNPACKED_BYTES
    ratio: int = MAX_RATIO

    def __post_init__(self) -> None:
        if min(self.entries, self.unpacked_bytes, self.ratio) < 1:
            raise ValueError(f"every limit must be at least 1: {self}")


def skipped(name: str) -> bool:
    """What an operating system or platform adds beside a learner's files."""
    return name.startswith(SKIPPED[0]) or PurePosixPath(name).name in SKIPPED[1:]


def safe_relative(name: str) -> PurePosixPath:
    """The entry's path inside the target; refuses one that would end up anywhere else."""
    if "\\" in name or "\x00" in name:
        raise ArchiveRefused(f"the zip has an entry named {name!r}, which is not a safe path")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ArchiveRefused(f"the zip has an entry {name!r} that points outside its folder")
    if any(len(part) > MAX_NAME_LENGTH for part in path.parts) or not path.parts:
        raise ArchiveRefused(f"the zip has an entry named {name[:80]!r}, which is not a path")
    return path


def entry_kind(info: zipfile.ZipInfo) -> str:
    """'file' or 'folder'; refuses links and special files (their Unix mode says so)."""
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0: a zip that records no type (a file)
    if kind == stat.S_IFLNK:
        raise ArchiveRefused(f"the zip has a link, {info.filename!r}; only plain files count")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveRefused(f"the zip has {info.filename!r}, which is not a plain file")
    return "folder" if info.is_dir() else "file"


def unpack(archive: Path, target: Path, limits: Limits | None = None) -> list[Path]:
    """Unpack `archive` into the new folder `target`; the files written (relative).

    Raises ArchiveRefused, saying why, for anything unsafe; `target` is then removed again.
    """
    limits = limits or Limits()
    target.mkdir(parents=True)
    try:
        return _unpack(archive, target, limits)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _unpack(archive: Path, target: Path, limits: Limits) -> list[Path]:
    try:
        zipped = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ArchiveRefused(f"{archive.name} is not a zip that can be read ({e})") from None
    with zipped:
        entries = zipped.infolist()
        if len(entries) > limits.entries:
            raise ArchiveRefused(
                f"{archive.name} has {len(entries)} entries; a submission may have at most "
                f"{limits.entries}"
            )
        plan: dict[PurePosixPath, zipfile.ZipInfo] = {}
        for info in entries:
            if skipped(info.filename):
                continue
            path = safe_relative(info.filename)
            if entry_kind(info) == "file":
                if path in plan or any(parent in plan for parent in path.parents):
                    raise ArchiveRefused(f"{archive.name} holds {info.filename!r} twice")
                plan[path] = info
        declared = sum(info.file_size for info in plan.values())
        if declared > limits.unpacked_bytes:
            raise ArchiveRefused(too_large(archive, declared, limits))
        written, total = [], 0
        for path, info in plan.items():
            total = copy_entry(zipped, info, target / path, total, archive, limits)
            written.append(Path(*path.parts))
        return written


def copy_entry(
    zipped: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    destination: Path,
    total: int,
    archive: Path,
    limits: Limits,
) -> int:
    """Write one entry, counting what comes out; the running total of bytes unpacked."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with zipped.open(info) as source, destination.open("xb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                total += len(chunk)
                if total > limits.unpacked_bytes:
                    raise ArchiveRefused(too_large(archive, total, limits))
                if size > RATIO_FROM and size > limits.ratio * max(info.compress_size, 1):
                    raise ArchiveRefused(
                        f"{archive.name}: {info.filename} inflates more than {limits.ratio} "
                        "times its packed size (a zip bomb?)"
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as e:
        raise ArchiveRefused(f"{archive.name}: {info.filename} cannot be unpacked ({e})") from None
    except FileExistsError:
        raise ArchiveRefused(f"{archive.name} holds {info.filename!r} twice") from None
    destination.chmod(0o644)
    return total


def too_large(archive: Path, size: int, limits: Limits) -> str:
    return (
        f"{archive.name} unpacks to more than {limits.unpacked_bytes // (1024 * 1024)} MB "
        f"({size // (1024 * 1024)} MB or more): a submission is a few KB"
    )
