"""``tf.saved_model.Asset``: a file that travels with a SavedModel."""

import os
import shutil

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor


class Asset:
    """A file a saved object needs (a vocabulary, say).

    ``tf.saved_model.save`` copies the file into the SavedModel's ``assets/``
    directory; after ``tf.saved_model.load`` the restored Asset's ``asset_path``
    names that copy.

    Args:
      path: the file's path (a str or scalar string Tensor).
    """

    _dlframe_asset = True   # object_io copies the file when it pickles an Asset

    def __init__(self, path):
        if isinstance(path, Asset):
            path = path.asset_path
        if isinstance(path, Tensor):
            if path.dtype != dtypes.string or path.shape.rank != 0:
                raise ValueError(f"`path` must be a scalar string, got {path!r}")
            path = path.numpy()
        if isinstance(path, bytes):
            path = path.decode()
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a file path string, got {path!r}")
        self._path = os.fspath(path)

    @property
    def asset_path(self):
        """A scalar string Tensor with the asset's path."""
        return convert_to_tensor(self._path)

    def _copy_into(self, assets_dir):
        """Copies the file into ``assets_dir``; returns its name there."""
        if assets_dir is None:
            raise ValueError("An Asset can only be saved by tf.saved_model.save.")
        if not os.path.isfile(self._path):
            raise ValueError(f"Asset file {self._path!r} does not exist.")
        name = os.path.basename(self._path)
        target = os.path.join(assets_dir, name)
        if os.path.exists(target) and not os.path.samefile(target, self._path):
            stem, ext = os.path.splitext(name)
            n = 1
            while os.path.exists(os.path.join(assets_dir, f"{stem}_{n}{ext}")):
                n += 1
            name = f"{stem}_{n}{ext}"
            target = os.path.join(assets_dir, name)
        shutil.copyfile(self._path, target)
        return name

    def __repr__(self):
        return f"<tf.saved_model.Asset {self._path!r}>"
