"""``keras.utils.get_file``: a file (or an extracted archive) in Keras' cache folder.

The cache root is Keras' own (``cache_dir``, else ``KERAS_HOME``, else ``~/.keras``), so
files a TensorFlow program already fetched are found where it left them and nothing is
downloaded again. Paths and return values follow Keras 2 (``untar=True`` returns the
extracted folder ``<cache>/<fname>``; ``extract=True`` returns the archive path and
extracts next to it); a folder Keras 3 extracted (``<stem>_extracted``) is also found.
"""

import os
import tarfile
import urllib.parse
import warnings
import zipfile

from dlframe.keras.datasets import _download


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Downloads ``origin`` into the cache unless it is already there.

    Args:
      fname: file name in the cache (default: the last part of ``origin``'s path).
      origin: URL of the file.
      untar: the file is a ``.tar.gz``: extract it and return the folder
        ``<cache_subdir>/<fname>`` (the archive is ``<fname>.tar.gz``).
      md5_hash: deprecated spelling of ``file_hash`` with ``hash_algorithm='md5'``.
      file_hash: expected sha256/md5 hex digest of the file, or None.
      cache_subdir: folder under the cache root (an absolute path is used as is).
      hash_algorithm: 'md5', 'sha256' or 'auto' (from the digest's length).
      extract: extract the archive (tar or zip) next to it.
      archive_format: 'auto', 'tar', 'zip', or a list of them.
      cache_dir: cache root (default ``KERAS_HOME`` or ``~/.keras``).
      force_download: download even when a cached copy exists.

    Returns:
      The path of the file, or of the extracted folder with ``untar=True``.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to '
                         'download).')
    if md5_hash is not None and file_hash is None:
        file_hash = md5_hash
    del hash_algorithm   # the digest's length says which algorithm it is
    fname = os.fspath(fname) if fname else os.path.basename(
        urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(f"Can't parse the file name from the origin provided: "
                         f"'{origin}'. Please specify the `fname` argument.")
    root = os.path.expanduser(cache_dir) if cache_dir else _download.keras_home()
    folder = os.path.join(root, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    if untar:
        target = os.path.join(folder, fname)
        keras3 = os.path.join(folder, fname.split(".")[0] + "_extracted")
        if not force_download:
            for found in (target, keras3):
                if os.path.isdir(found):
                    return found
        archive = target + ".tar.gz"
        _ensure(origin, archive, file_hash, force_download)
        _extract(archive, folder, "tar")
        return target
    path = os.path.join(folder, fname)
    _ensure(origin, path, file_hash, force_download)
    if extract:
        _extract(path, folder, archive_format)
    return path


def _ensure(origin, path, file_hash, force):
    """Downloads ``origin`` to ``path`` unless a copy with the right checksum is
    there; without network access the error names the file and where to put it."""
    stale = False
    if not force and os.path.exists(path):
        if _download._matches(path, file_hash):
            return
        stale = True
        warnings.warn(
            f"A local file was found at {path}, but its "
            f"{_download._algorithm(file_hash)} hash does not match the expected "
            f"{file_hash}, so it will be downloaded again.",
            stacklevel=3,
        )
    try:
        _download.fetch(origin, path, file_hash, mirror=False)
    except _download.DatasetDownloadError as exc:
        folder, fname = os.path.split(path)
        expect = (f" with {_download._algorithm(file_hash)} {file_hash}"
                  if file_hash else "")
        found = (" (the copy there has a different checksum)" if stale else "")
        reason = getattr(exc.__cause__, "reason", exc.__cause__)
        raise _download.DatasetDownloadError(
            f"{fname} is not in the Keras cache folder {folder}{found} and could "
            f"not be downloaded from {origin}: {reason}. Without internet access, "
            f"copy {fname}{expect} into {folder} (a "
            "machine that ran the program under TensorFlow has it in "
            "~/.keras/" + os.path.basename(folder) + "), or point KERAS_HOME at a "
            "folder whose subfolder holds it.") from exc.__cause__


def _formats(archive_format):
    if archive_format in (None, "auto"):
        return ("tar", "zip")
    if isinstance(archive_format, str):
        return (archive_format,)
    return tuple(archive_format)


def _extract(path, folder, archive_format):
    """Extracts a tar or zip archive into ``folder``, refusing members that would land
    outside it; returns whether ``path`` was an archive of an allowed format."""
    target = os.path.realpath(folder)

    def inside(name):
        dest = os.path.realpath(os.path.join(target, name))
        if os.path.commonpath([dest, target]) != target:
            raise ValueError(f"Refusing to extract {name!r} from {path}: it would be "
                             f"written outside {folder}")
    for kind in _formats(archive_format):
        if kind == "tar" and tarfile.is_tarfile(path):
            with tarfile.open(path) as tar:
                for member in tar.getmembers():
                    inside(member.name)
                    if member.issym() or member.islnk():
                        inside(os.path.join(os.path.dirname(member.name),
                                            member.linkname))
                tar.extractall(target)
            return True
        if kind == "zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    inside(name)
                zf.extractall(target)
            return True
    return False
