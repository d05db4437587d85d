"""``tf.io.gfile``: TensorFlow's file API on local paths.

Errors follow TensorFlow: a missing path raises ``dlframe.errors.NotFoundError``, an
existing target that must not exist ``AlreadyExistsError``.
"""

import glob as _glob
import os
import shutil

from dlframe import errors

__all__ = [
    "GFile",
    "Open",
    "copy",
    "exists",
    "get_registered_schemes",
    "glob",
    "isdir",
    "join",
    "listdir",
    "makedirs",
    "mkdir",
    "remove",
    "rename",
    "rmtree",
    "stat",
    "walk",
]


def _path(path):
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    if "://" in path and not path.startswith("file://"):
        raise errors.UnimplementedError(
            None, None, f"File system scheme '{path.split('://')[0]}' not implemented "
            f"(file: '{path}'); dlframe.io.gfile handles local paths only.")
    return path.removeprefix("file://")


def _not_found(path, what="No such file or directory"):
    return errors.NotFoundError(None, None, f"{path}; {what}")


def get_registered_schemes():
    return ["", "file"]


def join(path, *paths):
    """Joins path components (``os.path.join``)."""
    return os.path.join(os.fspath(path), *[os.fspath(p) for p in paths])


def exists(path):
    """Whether ``path`` exists."""
    return os.path.exists(_path(path))


def isdir(path):
    """Whether ``path`` is a directory."""
    return os.path.isdir(_path(path))


def glob(pattern):
    """Paths matching ``pattern`` (a string or a list of patterns), sorted."""
    patterns = [pattern] if isinstance(pattern, (str, bytes, os.PathLike)) else pattern
    out = []
    for p in patterns:
        out.extend(_glob.glob(_path(p)))
    return sorted(out)


def listdir(path):
    """Entry names of directory ``path`` (no '.'/'..')."""
    path = _path(path)
    if not os.path.isdir(path):
        raise errors.NotFoundError(None, None, f"Could not find directory {path}")
    return sorted(os.listdir(path))


def makedirs(path):
    """Creates ``path`` and missing parents; an existing directory is fine."""
    path = _path(path)
    try:
        os.makedirs(path, exist_ok=True)
    except (NotADirectoryError, FileExistsError):
        # a file on the way (or at ``path``): TF reports a failed precondition
        blocker = path
        while blocker and not os.path.exists(blocker):
            blocker = os.path.dirname(blocker)
        raise errors.FailedPreconditionError(
            None, None, f"{blocker} is not a directory") from None


def mkdir(path):
    """Creates directory ``path``; its parent must exist. An existing ``path`` is
    left as it is (TF ignores AlreadyExists here)."""
    path = _path(path)
    if os.path.exists(path):
        return
    try:
        os.mkdir(path)
    except FileNotFoundError:
        raise _not_found(path) from None


def remove(path):
    """Deletes file ``path``."""
    path = _path(path)
    if os.path.isdir(path) and not os.path.islink(path):
        raise errors.FailedPreconditionError(None, None, f"{path}; Is a directory")
    if not os.path.isfile(path) and not os.path.islink(path):
        raise _not_found(path)
    os.remove(path)


def rmtree(path):
    """Deletes directory ``path`` and everything under it."""
    path = _path(path)
    if not os.path.exists(path):
        raise errors.NotFoundError(None, None, f"{path} not found")
    shutil.rmtree(path)


def rename(src, dst, overwrite=False):
    """Moves ``src`` to ``dst``; an existing ``dst`` needs ``overwrite=True``."""
    src, dst = _path(src), _path(dst)
    if not os.path.exists(src):
        raise _not_found(src)
    if os.path.exists(dst) and not overwrite:
        raise errors.AlreadyExistsError(None, None, f"file already exists: {dst}")
    os.replace(src, dst)


def copy(src, dst, overwrite=False):
    """Copies file ``src`` to ``dst``; an existing ``dst`` needs ``overwrite=True``."""
    src, dst = _path(src), _path(dst)
    if not os.path.isfile(src):
        raise _not_found(src)
    if os.path.exists(dst) and not overwrite:
        raise errors.AlreadyExistsError(None, None, f"file already exists: {dst}")
    shutil.copyfile(src, dst)


class FileStatistics:
    """``stat`` result: ``length`` (bytes), ``mtime_nsec``, ``is_directory``."""

    def __init__(self, length, mtime_nsec, is_directory):
        self.length = length
        self.mtime_nsec = mtime_nsec
        self.is_directory = is_directory

    def __repr__(self):
        return (f"FileStatistics(length={self.length}, mtime_nsec={self.mtime_nsec}, "
                f"is_directory={self.is_directory})")


def stat(path):
    """FileStatistics of ``path``."""
    path = _path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _not_found(path) from None
    return FileStatistics(st.st_size, st.st_mtime_ns, os.path.isdir(path))


def walk(top, topdown=True, onerror=None):
    """Yields (dirname, subdirectories, filenames) like ``os.walk``; nothing if missing."""
    top = _path(top)
    if not os.path.isdir(top):
        return
    for dirpath, dirnames, filenames in os.walk(top, topdown=topdown, onerror=onerror):
        dirnames.sort()
        yield dirpath, dirnames, sorted(filenames)


class GFile:
    """A file object as ``tf.io.gfile.GFile(name, mode='r')``.

    Text modes read and write ``str``; binary modes ('rb', 'wb', 'ab') ``bytes``. The file
    opens on first use, so constructing a reader for a missing file only fails when read.
    """

    def __init__(self, name, mode="r"):
        if mode not in ("r", "rb", "w", "wb", "a", "ab", "r+", "rb+", "w+", "wb+", "a+",
                        "ab+"):
            raise errors.InvalidArgumentError(None, None, f"mode is not 'r' or 'w' or 'a' "
                                              f"(with 'b' or '+'): {mode!r}")
        self.name = _path(name)
        self.mode = mode
        self._file = None

    def _open(self):
        if self._file is None:
            if "r" in self.mode and not os.path.exists(self.name):
                raise _not_found(self.name)
            binary = "b" in self.mode
            self._file = open(self.name, self.mode, **({} if binary else  # noqa: SIM115
                                                       {"encoding": "utf-8"}))
        return self._file

    def _readable(self):
        if "r" not in self.mode and "+" not in self.mode:
            raise errors.PermissionDeniedError(None, None,
                                               "File isn't open for reading")
        return self._open()

    def read(self, n=-1):
        """Reads ``n`` characters/bytes (all if -1)."""
        return self._readable().read(n)

    def readline(self):
        return self._readable().readline()

    def readlines(self):
        return self._readable().readlines()

    def write(self, file_content):
        if "r" in self.mode and "+" not in self.mode:
            raise errors.PermissionDeniedError(None, None,
                                               "File isn't open for writing")
        f = self._open()
        if "b" in self.mode and isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        elif "b" not in self.mode and isinstance(file_content, bytes):
            file_content = file_content.decode("utf-8")
        f.write(file_content)

    def seek(self, offset=None, whence=0, position=None):
        if position is not None:
            offset = position
        return self._open().seek(offset, whence)

    def tell(self):
        return self._open().tell()

    def size(self):
        return os.path.getsize(self.name)

    def seekable(self):
        return True

    def flush(self):
        if self._file is not None:
            self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


Open = GFile
