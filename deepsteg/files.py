"""Writing files safely: one helper per job.

Every output goes to a new temporary file beside it, is flushed to disk (``fsync``) and checked,
and only then takes its final name, without replacing an existing file unless ``force`` (a hard
link, which fails if the name was taken in the meantime, even by another process). Inside a
:func:`transaction` the final names are taken only when the whole run has succeeded; if anything
fails, every temporary file of the run is removed and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import shutil
import tempfile

_transactions: list = []  # the open transactions, innermost last


def check_output_path(path, force: bool = False) -> pathlib.Path:
    """Checks that ``path`` may be written: not existing unless ``force``, folder writable.

    Raises:
        ValueError: with a one-line explanation.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file")
    if (path.exists() or path.is_symlink()) and not force:
        raise ValueError(f"{path} already exists; pass --force to overwrite it")
    parent = path.parent if str(path.parent) else pathlib.Path(".")
    if not parent.is_dir():
        raise ValueError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"output folder is not writable: {parent}")
    return path


def _same_file(first: pathlib.Path, second: pathlib.Path) -> bool:
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
    except OSError:
        pass
    return first.resolve() == second.resolve()


def check_distinct(inputs=(), outputs=()) -> None:
    """Refuses runs whose outputs would overwrite an input or each other (whatever ``--force`` says).

    Args:
        inputs: paths read by the run (None entries are ignored).
        outputs: paths written by the run (None entries are ignored).

    Raises:
        ValueError: naming the two options that point at the same file.
    """
    inputs = [pathlib.Path(path) for path in inputs if path is not None]
    outputs = [pathlib.Path(path) for path in outputs if path is not None]
    for index, output in enumerate(outputs):
        for source in inputs:
            if _same_file(output, source):
                raise ValueError(f"the output {output} is also an input; write to another file")
        for other in outputs[index + 1:]:
            if _same_file(output, other):
                raise ValueError(f"{output} is named as two different outputs; give each its own file")


def temporary_sibling(path) -> pathlib.Path:
    """A new, unused temporary file name in the folder of ``path`` with the same extension."""
    path = pathlib.Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent or ".")
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs get the usual permissions
    return pathlib.Path(name)


def sync_file(path) -> None:
    """Flushes a written file to the disk (``fsync``), so that a full disk shows here, not later."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def _put(temporary: pathlib.Path, path: pathlib.Path, force: bool) -> None:
    """Gives ``temporary`` the name ``path``; without ``force`` never replaces a file that exists."""
    if force:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise ValueError(f"{path} already exists (written by someone else meanwhile?); pass --force to overwrite it") from None
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        try:  # no hard links here: claim the name exclusively, then move the file onto the claim
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise ValueError(f"{path} already exists (written by someone else meanwhile?); pass --force to overwrite it") from None
        os.replace(temporary, path)
        return
    temporary.unlink()


def place(temporary, path, force: bool = False) -> pathlib.Path:
    """Moves a finished temporary file to ``path`` (at the end of the open :func:`transaction`, if any).

    Raises:
        ValueError: if ``path`` exists and ``force`` is not set; the temporary file is removed.
    """
    temporary, path = pathlib.Path(temporary), pathlib.Path(path)
    if _transactions:
        _transactions[-1].append((temporary, path, force))
        return path
    try:
        _put(temporary, path, force)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def transaction():
    """Defers :func:`place` until the ``with`` block ends without an exception (or, nested, until
    the outermost one does).

    On success every output takes its final name (if one of them cannot, those already placed by
    this transaction are removed again); on any exception, ``KeyboardInterrupt`` included, every
    temporary file is removed and no output appears.
    """
    pending: list = []
    _transactions.append(pending)
    try:
        yield pending
    except BaseException:
        _transactions.remove(pending)
        for temporary, _, _ in pending:
            temporary.unlink(missing_ok=True)
        raise
    _transactions.remove(pending)
    if _transactions:  # nested: the outer transaction places them
        _transactions[-1].extend(pending)
        return
    placed = []
    try:
        for temporary, path, force in pending:
            _put(temporary, path, force)
            placed.append(path)
    except BaseException:
        for temporary, _, _ in pending:
            temporary.unlink(missing_ok=True)
        for path in placed:
            path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def new_folder(path, exist_ok: bool = True):
    """Makes the folder ``path`` (and any missing parents) for the ``with`` block's outputs; on any
    exception, ``KeyboardInterrupt`` included, removes again every folder it made, with what is in
    them, so that a failed run leaves no folder behind.

    Raises:
        OSError: when the folder cannot be made (or exists, without ``exist_ok``).
    """
    path = pathlib.Path(path)
    made = [folder for folder in (path, *path.parents) if not folder.exists()]
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except OSError as error:
        raise OSError(f"cannot make the folder {path}: {error.strerror}") from None
    try:
        yield path
    except BaseException:
        if made:
            shutil.rmtree(made[-1], ignore_errors=True)  # the outermost folder made
        raise


def write_through_temporary(path, write, force: bool = False) -> pathlib.Path:
    """Calls ``write(binary file handle)`` on a temporary sibling of ``path``, flushes it to disk,
    checks its size, then gives it the name ``path`` (see :func:`place`): a failure half-way, a full
    disk included, leaves whatever was at ``path`` untouched and no temporary file.

    Raises:
        ValueError: if the file cannot be written, or ``path`` exists and ``force`` is not set.
    """
    path = pathlib.Path(path)
    temporary = temporary_sibling(path)
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            written = handle.tell()
        if temporary.stat().st_size != written:
            raise OSError(errno.EIO, f"only {temporary.stat().st_size} of {written} bytes reached the disk")
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ValueError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return place(temporary, path, force)


def write_bytes(path, data: bytes, force: bool = False) -> pathlib.Path:
    """Writes ``data`` to ``path`` through a checked temporary file (:func:`write_through_temporary`)."""
    return write_through_temporary(path, lambda handle: handle.write(data), force)


def write_text(path, text: str, force: bool = False) -> pathlib.Path:
    """Writes UTF-8 ``text`` to ``path`` through a checked temporary file."""
    return write_bytes(path, text.encode("utf-8"), force)


class CommitOnExit:
    """The context-manager protocol of an object with ``close()`` (finish and keep the result) and
    ``abort()`` (drop everything): leaving the ``with`` block normally closes, leaving it on an
    exception aborts and lets the exception go on."""

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            self.abort()
            return False
        self.close()
        return False
