"""Writing files so that an interrupted run never leaves a truncated one behind, and one
lock per output folder so that two polarity processes never write the same folder."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

from polarity import PolarityError

LOCK_SUFFIX = ".polarity.lock"
# Temporary files carry their writer's process id: `.<name>.<pid>.<random>.tmp`.
TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


class FolderBusy(PolarityError):
    """Another polarity process holds the lock on an output folder."""


def cannot_write(path: Path, exc: OSError) -> PolarityError:
    """One line: the path and the operating system's reason, for any failed write."""
    reason = exc.strerror or type(exc).__name__
    where = exc.filename or path
    hint = "; free some space" if exc.errno == errno.ENOSPC else "; choose a writable folder"
    return PolarityError(f"cannot write {where}: {reason}{hint}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
        )
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise cannot_write(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_orphaned_temp_files(folder: Path, name: str | None = None) -> list[Path]:
    """Delete temporary files in `folder` (for target `name`, or all) whose writer is gone;
    another live process's temp file is left alone."""
    removed = []
    for candidate in Path(folder).glob(".*.tmp"):
        match = TEMP_NAME.match(candidate.name)
        if not match or (name is not None and match["name"] != name):
            continue
        if not _alive(int(match["pid"])):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def lock_path(folder: Path) -> Path:
    """The lock file of an output folder: beside it, so the folder holds only its outputs."""
    folder = Path(folder).absolute()
    return folder.parent / f".{folder.name}{LOCK_SUFFIX}"


_HELD: dict[Path, int] = {}  # folders this process holds, so that nested holds are free


@contextmanager
def folder_lock(folder: Path):
    """Hold an exclusive lock on `folder` (created if missing) for the block; fail at once,
    with a clear message, when another process holds it. Also proves the folder writable."""
    folder = Path(folder)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield folder
        finally:
            _HELD[key] -= 1
        return
    lock = lock_path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise cannot_write(folder, exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(
                f"another polarity run holds {folder} (lock {lock}); "
                "wait for it to finish and try again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD[key] = 1
        try:
            yield folder
        finally:
            del _HELD[key]
    finally:
        os.close(fd)  # closing releases the lock


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj) -> None:
    # allow_nan=False: NaN is not JSON, and a NaN metric is a bug to surface, not to store.
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False, allow_nan=False) + "\n")
