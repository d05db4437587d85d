"""Fetching dataset files into a local cache, with checksum verification.

Cache folder: the ``cache_dir`` argument, else env ``DLFRAME_DATASETS_DIR``, else
``~/.dlframe/datasets``. Env ``DLFRAME_DATASETS_ORIGIN`` replaces the base URL of every
origin (a mirror holding the same file names). A cached file whose checksum does not
match is fetched again; a download that fails says where to place the file by hand.
"""

import hashlib
import os
import pickle
import shutil
import tempfile

DEFAULT_DIR = os.path.join("~", ".dlframe", "datasets")


class DatasetDownloadError(ConnectionError):
    """A dataset file is not cached and could not be downloaded."""


def cache_dir(override=None):
    """The dataset cache folder (created if needed)."""
    path = override or os.environ.get("DLFRAME_DATASETS_DIR") or DEFAULT_DIR
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    os.makedirs(path, exist_ok=True)
    return path


def file_hash(path, algorithm="sha256", chunk_size=1 << 20):
    h = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def _algorithm(expected):
    return "md5" if len(expected) == 32 else "sha256"


def _matches(path, expected):
    return expected is None or file_hash(path, _algorithm(expected)) == expected.lower()


def _origin(url):
    mirror = os.environ.get("DLFRAME_DATASETS_ORIGIN")
    if not mirror:
        return url
    return mirror.rstrip("/") + "/" + url.rsplit("/", 1)[-1]


def keras_home():
    """Keras' own cache root (``KERAS_HOME`` or ``~/.keras``): files TensorFlow already
    fetched there (``datasets/mnist.npz``...) are used as they are, never re-fetched."""
    return os.path.abspath(os.path.expanduser(
        os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")))


def keras_cached(*parts):
    """``keras_home()/datasets/<parts>`` when it exists, else None."""
    path = os.path.join(keras_home(), "datasets", *parts)
    return path if os.path.exists(path) else None


def keras_extracted(folder, names):
    """The folder where TensorFlow's Keras extracted an archive (``datasets/<folder>``
    in Keras 2, ``datasets/<folder>-target/<folder>`` in Keras 3) when it holds every
    file in ``names``, else None."""
    for parts in ((folder,), (folder + "-target", folder)):
        path = keras_cached(*parts)
        if path and all(os.path.isfile(os.path.join(path, n)) for n in names):
            return path
    return None


def get_file(fname, origin, file_hash=None, cache_subdir="", cache_dir_override=None,
             timeout=60):
    """Path of ``fname`` in the cache, downloading it from ``origin`` when absent.

    Without ``cache_dir_override``, a copy with the right checksum already in Keras'
    cache (``~/.keras/datasets/<cache_subdir>/<fname>``) is used in place.

    Args:
      fname: file name (or an absolute path) under the cache folder.
      origin: URL to download from.
      file_hash: expected sha256 (64 hex digits) or md5 (32), or None to skip checking.
      cache_subdir: folder under the cache folder.
      cache_dir_override: cache folder to use instead of the default.

    Raises:
      DatasetDownloadError: the file is not cached and downloading failed (the message
        names where to put the file by hand).
      ValueError: the downloaded file's checksum does not match ``file_hash``.
    """
    folder = os.path.join(cache_dir(cache_dir_override), cache_subdir)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, fname)
    if os.path.exists(path) and _matches(path, file_hash):
        return path
    # (a stale or partial file is fetched again, as Keras does)
    if cache_dir_override is None:
        theirs = keras_cached(cache_subdir, fname)
        if theirs is not None and os.path.isfile(theirs) and _matches(theirs, file_hash):
            return theirs
    fetch(origin, path, file_hash, timeout)
    return path


def fetch(origin, path, file_hash=None, timeout=60, mirror=True):
    """Downloads ``origin`` (through ``DLFRAME_DATASETS_ORIGIN`` when ``mirror``) to
    ``path`` atomically, verifying ``file_hash``."""
    import urllib.error  # imported on first download: urllib.request costs ~70 ms
    import urllib.request

    folder, fname = os.path.split(path)
    url = _origin(origin) if mirror else origin
    expect = f" ({_algorithm(file_hash)} {file_hash})" if file_hash else ""
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
            shutil.copyfileobj(r, out, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        os.remove(tmp)
        reason = getattr(exc, "reason", exc)
        raise DatasetDownloadError(
            f"Could not download {fname} from {url}: {reason}. Without internet access, "
            f"download that file elsewhere and place it at {path}{expect}; or set "
            "DLFRAME_DATASETS_DIR to a folder that holds it.") from exc
    if not _matches(tmp, file_hash):
        actual = file_hash and file_hash_of(tmp, file_hash)
        os.remove(tmp)
        raise ValueError(
            f"Incomplete or corrupted file detected: {fname} downloaded from {url} has "
            f"{_algorithm(file_hash)} {actual}, expected {file_hash}. The file was "
            "discarded; try again or place a correct copy at " + path)
    os.replace(tmp, path)


def file_hash_of(path, expected):
    return file_hash(path, _algorithm(expected))


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays only (no arbitrary code)."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
                ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
                ("_codecs", "encode"),  # protocol-2 pickles store array bytes through it
                ("builtins", "list"), ("builtins", "dict")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"Refusing to unpickle {module}.{name} from a "
                                     "dataset file.")


def safe_unpickle(fileobj, encoding="bytes"):
    return _RestrictedUnpickler(fileobj, encoding=encoding).load()


def load_npz_objects(path):
    """The arrays of an .npz whose members may be object arrays (pickled), loaded with
    the restricted unpickler instead of ``allow_pickle=True``."""
    import zipfile

    import numpy as np
    from numpy.lib import format as npy_format

    out = {}
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            key = member.removesuffix(".npy")
            with zf.open(member) as f:
                version = npy_format.read_magic(f)
                read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                               else npy_format.read_array_header_2_0)
                shape, fortran, dtype = read_header(f)
                if dtype.hasobject:
                    arr = safe_unpickle(f, encoding="latin1")
                    arr = np.asarray(arr, dtype=object) if not isinstance(
                        arr, np.ndarray) else arr
                else:
                    data = f.read()
                    arr = np.frombuffer(data, dtype=dtype).reshape(
                        shape, order="F" if fortran else "C").copy()
            out[key] = arr
    return out
