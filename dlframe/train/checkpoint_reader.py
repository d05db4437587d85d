"""``tf.train.load_checkpoint``, ``load_variable`` and ``list_variables``."""

import os

from dlframe import errors
from dlframe.core import dtypes as _dt
from dlframe.train.checkpoint_io import read_tensors, tf_key
from dlframe.train.checkpoint_state import latest_checkpoint


class CheckpointReader:
    """Reads the values of a checkpoint by key (``tf.train.load_checkpoint``).

    Keys are TensorFlow's (``'step/.ATTRIBUTES/VARIABLE_VALUE'``, and
    ``'_CHECKPOINTABLE_OBJECT_GRAPH'``); the bare object-graph path (``'step'``) is
    accepted too.
    """

    def __init__(self, values):
        self._values = values   # {TensorFlow key: host array}

    def _key(self, name):
        for key in (name, tf_key(name)):
            if key in self._values:
                return key
        return None

    def get_tensor(self, name):
        key = self._key(name)
        if key is None:
            raise errors.NotFoundError(f"Key {name} not found in checkpoint")
        value = self._values[key]
        return value.item() if value.dtype == object and value.ndim == 0 else value

    def has_tensor(self, name):
        return self._key(name) is not None

    def get_variable_to_shape_map(self):
        return {k: list(v.shape) for k, v in self._values.items()}

    def get_variable_to_dtype_map(self):
        return {k: _dt.string if v.dtype == object else _dt.as_dtype(v.dtype)
                for k, v in self._values.items()}


def _resolve(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


def load_checkpoint(ckpt_dir_or_file):
    """A CheckpointReader for a checkpoint prefix or a directory's latest checkpoint."""
    return CheckpointReader(read_tensors(_resolve(ckpt_dir_or_file)))


def load_variable(ckpt_dir_or_file, name):
    """The saved value under key (or object-graph path) ``name``."""
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file):
    """Sorted (key, shape) pairs of a checkpoint, keys as TensorFlow names them
    (``'net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE'``)."""
    values = read_tensors(_resolve(ckpt_dir_or_file))
    return sorted((k, list(v.shape)) for k, v in values.items())
