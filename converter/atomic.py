"""Atomic outputs: files written under temporary names in OUTDIR, put in place together
with ``os.replace`` only when complete (and on disk: forced there first, the folder after),
or all deleted."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .formats import run_files


class PartlyInPlace(OSError):
    """Some outputs were put in place, then one could not be: the folder holds some of this
    run's outputs beside the last run's."""


class AtomicFiles:
    """Temporary files in one folder that replace their targets only on :meth:`commit`;
    whatever was not committed is deleted by :meth:`close`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pending: dict[Path, Path] = {}
        self._made = 0
        for name in run_files():  # temporary files of a run that was killed
            for stale in folder.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)

    def temp_for(self, name: str) -> Path:
        """A new temporary path that will become ``folder/name``, for its writer to create."""
        self._made += 1
        temp = self.folder / f".{name}.{os.getpid()}-{self._made}.tmp"
        self._pending[self.folder / name] = temp
        return temp

    def pending(self, name: str) -> Path | None:
        """The temporary file that will become ``folder/name``, if there is one."""
        return self._pending.get(self.folder / name)

    def pending_items(self) -> list[tuple[Path, Path]]:
        """Each target with the temporary file that will become it."""
        return list(self._pending.items())

    def drop(self, name: str) -> None:
        """Forget ``name`` (delete its temporary file): it will not be written."""
        self._pending.pop(self.folder / name).unlink(missing_ok=True)

    def commit(self, owned: bool = False) -> list[Path]:
        """Force every temporary file to disk, put each in place of its target, then force
        the folder to disk; with ``owned``, delete the files of :func:`run_files` not
        written (a previous run's; a folder of such a name is left). Returns the targets.
        An OSError names what failed: a :class:`PartlyInPlace` once an output is in place."""
        for target in self._pending:
            if target.is_dir() and not target.is_symlink():
                raise OSError(errno.EISDIR, "a folder is in the way of this output", str(target))
        for temp in self._pending.values():
            _force_to_disk(temp)
        done: list[Path] = []
        for target, temp in self._pending.items():
            try:
                os.replace(temp, target)
            except OSError as err:
                error = PartlyInPlace if done else OSError
                raise error(err.errno, err.strerror, str(target)) from None
            done.append(target)
        self._pending.clear()
        try:
            if owned:
                for name in set(run_files()) - {path.name for path in done}:
                    if not (self.folder / name).is_dir():
                        (self.folder / name).unlink(missing_ok=True)
            _force_to_disk(self.folder)
        except OSError as err:
            where = err.filename or self.folder
            raise PartlyInPlace(err.errno, err.strerror, str(where)) from None
        return done

    def close(self) -> None:
        """Delete the temporary files not committed."""
        for temp in self._pending.values():
            temp.unlink(missing_ok=True)
        self._pending.clear()


def _force_to_disk(path: Path) -> None:
    """``fsync`` a file or a folder (a rename is durable once its folder is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
