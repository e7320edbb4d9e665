"""Reading and writing files safely: reads take regular files only, and only up to a cap;
writes go to a temporary file renamed into place, so an interrupted run never leaves a
truncated file and a planted symlink is replaced, never followed; one lock per output
folder (per real folder, however it is spelt) so that two polarity processes never write
the same folder."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import stat
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


class NotARegularFile(PolarityError):
    """A path to be read that is a FIFO, a device, a folder or a socket, or is too large."""


def read_capped(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them.

    Opened without blocking (a FIFO would wait for a writer for ever) and checked on the
    open descriptor (st_size is 0 for FIFOs and devices, so only bytes actually read
    count). A symlink to a regular file is read; one to /dev/zero is not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise NotARegularFile(f"{path}: cannot read: a folder, not a {what}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "special file")
            raise NotARegularFile(
                f"{path}: cannot read: a {kind}, not a {what} (only regular files are read)"
            )
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise NotARegularFile(
                f"{path}: cannot read: larger than any {what} ({limit} bytes at most)"
            )
        return b"".join(chunks)
    finally:
        os.close(fd)


_KINDS = {
    stat.S_IFIFO: "FIFO",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "folder",
}


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place: a symlink
    at `path` is replaced by the file, never written through."""
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


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy a file as atomic_write_bytes writes one (a symlink at `dst` is replaced)."""
    atomic_write_bytes(dst, Path(src).read_bytes())
    shutil.copystat(src, dst)


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
    """The lock file of an output folder: beside it, so the folder holds only its outputs,
    and beside the real folder, so every spelling of it (a symlink, `..`) shares one lock."""
    folder = Path(folder).resolve()
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
        # O_NOFOLLOW: a symlink planted in the lock's place is refused, not truncated.
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PolarityError(
                f"{lock} is a symlink, not a lock file; remove it and try again"
            ) from None
        raise cannot_write(folder, exc) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PolarityError(f"{lock} is not a regular file; remove it and try again")
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


def staging_folder(parent: Path) -> Path:
    """A fresh staging folder in `parent`, named with this process's id, after removing the
    staging folders of processes that are gone (a killed build's). A live process's
    staging folder is its own and stays (the lock is per folder, but two spellings of a
    folder before this fix, or a lock on NFS, must not cost another build its work)."""
    for leftover in Path(parent).glob(".staging-*"):
        match = re.match(r"^\.staging-(\d+)-", leftover.name)
        if match and _alive(int(match[1])):  # this process's too: a nested build's
            continue
        if not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=parent))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj) -> None:
    # allow_nan=False: NaN is not JSON, and a NaN metric is a bug to surface, not to store.
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False, allow_nan=False) + "\n")
