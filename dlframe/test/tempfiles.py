"""Temporary files for tests: ``get_temp_dir`` and absltest-style ``create_tempdir``
/ ``create_tempfile`` objects.

Everything lives under one per-process directory (``$TEST_TMPDIR`` when set, as
with Bazel and absl), removed when the process exits.
"""

import atexit
import enum
import os
import shutil
import tempfile

_BASE = []


def base_dir():
    """The per-process root of test temporary files (created on first use)."""
    if not _BASE:
        parent = os.environ.get("TEST_TMPDIR") or None
        if parent:
            os.makedirs(parent, exist_ok=True)
        _BASE.append(tempfile.mkdtemp(prefix="dlframe_test_", dir=parent))
        atexit.register(shutil.rmtree, _BASE[0], True)
    return _BASE[0]


def get_temp_dir():
    """A fresh temporary directory (``tf.compat.v1.test.get_temp_dir``)."""
    return tempfile.mkdtemp(dir=base_dir())


class TempFileCleanup(enum.Enum):
    """When ``create_tempdir``/``create_tempfile`` remove what they made.

    ``SUCCESS`` is treated like ``ALWAYS``: unittest does not tell cleanups whether
    the test passed.
    """

    ALWAYS = "always"
    SUCCESS = "success"
    OFF = "off"


def _write(path, content, mode, encoding, errors):
    if "b" in mode:
        if isinstance(content, str):
            content = content.encode(encoding, errors)
        with open(path, mode) as f:
            f.write(content)
    else:
        if isinstance(content, bytes):
            content = content.decode(encoding, errors)
        with open(path, mode, encoding=encoding, errors=errors) as f:
            f.write(content)


class TempFile:
    """A file made by ``create_tempfile``; ``full_path`` is its absolute path."""

    def __init__(self, path):
        self.full_path = path

    def __fspath__(self):
        return self.full_path

    def __repr__(self):
        return f"TempFile({self.full_path!r})"

    def read_text(self, encoding="utf8", errors="strict"):
        """The file's contents as str."""
        with self.open_text("r", encoding=encoding, errors=errors) as f:
            return f.read()

    def read_bytes(self):
        """The file's contents as bytes."""
        with self.open_bytes("rb") as f:
            return f.read()

    def write_text(self, text, mode="w", encoding="utf8", errors="strict"):
        """Writes ``text`` (``mode`` 'w' replaces, 'a' appends)."""
        _write(self.full_path, text, mode, encoding, errors)

    def write_bytes(self, data, mode="wb"):
        """Writes ``data`` (``mode`` 'wb' replaces, 'ab' appends)."""
        _write(self.full_path, data, mode, "utf8", "strict")

    def open_text(self, mode="rt", encoding="utf8", errors="strict"):
        """The file opened in text mode."""
        if "b" in mode:
            raise ValueError(f"open_text needs a text mode, got mode={mode!r}")
        return open(self.full_path, mode, encoding=encoding, errors=errors)

    def open_bytes(self, mode="rb"):
        """The file opened in binary mode."""
        if "b" not in mode:
            mode += "b"
        return open(self.full_path, mode)


class TempDir:
    """A directory made by ``create_tempdir``; ``full_path`` is its absolute path."""

    def __init__(self, path):
        self.full_path = path

    def __fspath__(self):
        return self.full_path

    def __repr__(self):
        return f"TempDir({self.full_path!r})"

    def create_file(self, file_path=None, content=None, mode="w", encoding="utf8",
                    errors="strict"):
        """Creates a file in this directory (missing parent dirs too).

        Args:
          file_path: path relative to this directory; a fresh name when None.
          content: optional str or bytes to write.
          mode: 'w' (text) or 'wb' (binary) for writing ``content``.
          encoding: text encoding.
          errors: how encoding errors are handled.

        Returns:
          A ``TempFile``.
        """
        return make_file(self.full_path, file_path, content, mode, encoding, errors)

    def mkdir(self, dir_path=None):
        """Creates a directory in this one (a fresh name when ``dir_path`` is None)
        and returns it as a ``TempDir``."""
        if dir_path is None:
            return TempDir(tempfile.mkdtemp(dir=self.full_path))
        path = os.path.join(self.full_path, dir_path)
        os.makedirs(path, exist_ok=True)
        return TempDir(path)


def make_file(parent, file_path, content, mode, encoding, errors):
    """Creates a file under ``parent`` (see ``TempDir.create_file``)."""
    if file_path is None:
        fd, path = tempfile.mkstemp(dir=parent)
        os.close(fd)
    else:
        path = os.path.join(parent, file_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
    _write(path, "" if content is None else content, mode, encoding, errors)
    return TempFile(path)


def dir_for_test(test_id):
    """The directory for one test's files: ``<base>/<Class>/<method>``."""
    parts = test_id.split(".")[-2:]
    path = os.path.join(base_dir(), *parts)
    os.makedirs(path, exist_ok=True)
    return path


def removal(path, cleanup):
    """The callable that removes ``path``, or None when ``cleanup`` is OFF."""
    cleanup = TempFileCleanup(getattr(cleanup, "value", cleanup) or "always")
    if cleanup is TempFileCleanup.OFF:
        return None
    if os.path.isdir(path):
        return lambda: shutil.rmtree(path, ignore_errors=True)
    return lambda: os.path.exists(path) and os.remove(path)
