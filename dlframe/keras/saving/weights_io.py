"""HDF5 weights files with Keras's layouts, written atomically.

``*.weights.h5`` uses Keras 3's layout (``keras3_layout``: ``layers/<class>/vars/<i>``
for Sequential/Functional models, attribute paths for subclassed ones, a built
optimizer under ``optimizer/vars/<i>``); any other name uses Keras 2's layout
(root attribute ``layer_names``, one group per layer with ``weight_names``).
A path with no HDF5 suffix (``'ckpt'``, ``'training_1/cp.ckpt'``) or
``save_format='tf'`` uses Keras 2's TensorFlow checkpoint format: ``tf.train.Checkpoint``
files at that prefix plus the directory's ``checkpoint`` state file, so
``tf.train.latest_checkpoint(directory)`` finds the newest one.
Files are written to a temporary file in the same directory and moved into place
with ``os.replace``, so a killed process never leaves a half-written file.
"""

import io
import os
import tempfile
import warnings
import zipfile

import numpy as np

from dlframe.train.checkpoint_io import publish_mode


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover
        raise ImportError("`save_weights`/`load_weights` require h5py: "
                          "pip install h5py") from e
    return h5py


def _layers_with_weights(model):
    """(name, weights) for each top-level layer, plus the model's own variables."""
    out, owned = [], set()
    for layer in getattr(model, "layers", []):
        ws = list(layer.weights)
        owned.update(id(w) for w in ws)
        out.append((layer.name, ws))
    own = [w for w in model.weights if id(w) not in owned]
    if own:
        out.append((f"{model.name}_own_weights", own))
    return out


def _atomic_write(filepath, write):
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp.h5")
    os.close(fd)
    try:
        with _h5py().File(tmp, "w") as f:
            write(f)
        publish_mode(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _is_keras3(filepath):
    return os.fspath(filepath).endswith(".weights.h5")


# HDF5 keeps attributes in the object header, which holds 64 KiB at most: Keras
# splits a longer name list into ``<name>0``, ``<name>1``... (NASNetLarge's layers)
_ATTRIBUTE_LIMIT = 64512


def write_names(group, key, names):
    """Stores ``names`` as the attribute ``key``, chunked as Keras does when long."""
    data = np.array([n.encode("utf8") for n in names])
    chunks = 1
    while data.nbytes / chunks > _ATTRIBUTE_LIMIT and chunks < len(data):
        chunks += 1
    if chunks == 1:
        group.attrs[key] = data
        return
    for i, part in enumerate(np.array_split(data, chunks)):
        group.attrs[f"{key}{i}"] = part


def read_names(group, key):
    """The attribute ``key`` as a list of str, joining ``<key>0``, ``<key>1``..."""
    if key in group.attrs:
        raw = list(group.attrs[key])
    else:
        raw, i = [], 0
        while f"{key}{i}" in group.attrs:
            raw.extend(group.attrs[f"{key}{i}"])
            i += 1
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in raw]


def has_names(group, key):
    return key in group.attrs or f"{key}0" in group.attrs


def write_weights_group(group, model):
    """Keras 2's layout: root attribute ``layer_names``, a group per layer."""
    layers = _layers_with_weights(model)
    write_names(group, "layer_names", [n for n, _ in layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.15.0"
    for name, ws in layers:
        g = group.create_group(name)
        names = []
        for i, w in enumerate(ws):
            wname = getattr(w, "name", f"{name}/var_{i}:0")
            if wname in names:
                wname = f"{wname}_{i}"
            names.append(wname)
            g.create_dataset(wname, data=np.asarray(w.numpy()))
        write_names(g, "weight_names", names)


def write_optimizer_group(group, optimizer):
    g = group.create_group("optimizer").create_group("vars")
    for i, v in enumerate(optimizer.variables):
        g.create_dataset(str(i), data=np.asarray(v.numpy()))


_H5_SUFFIXES = (".h5", ".hdf5", ".keras")


def _is_tf_format(filepath, save_format=None):
    """Whether ``save_weights`` writes a TensorFlow checkpoint rather than HDF5."""
    if save_format is not None:
        fmt = str(save_format).lower()
        if fmt not in ("tf", "tensorflow", "h5", "hdf5", "keras"):
            raise ValueError("Unknown format. Received: `save_format`="
                             f"{save_format!r}. Expected 'tf' or 'h5'.")
        return fmt in ("tf", "tensorflow")
    return not os.fspath(filepath).lower().endswith(_H5_SUFFIXES)


def _checkpoint_for(model):
    from dlframe.train.checkpoint import Checkpoint
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return Checkpoint(root=model)
    return Checkpoint(root=model, optimizer=optimizer)


def _save_tf_checkpoint(model, prefix):
    from dlframe.train.checkpoint import update_checkpoint_state
    path = _checkpoint_for(model).write(prefix)
    update_checkpoint_state(os.path.dirname(os.path.abspath(path)), path, [path])


def _load_tf_checkpoint(model, prefix):
    # an unbuilt (subclassed) model takes the values when it creates its weights:
    # TF's deferred restoration
    status = _checkpoint_for(model).read(prefix)   # write/read: no save_counter
    if model.built and not status._restored:
        raise ValueError(f"No weights in the checkpoint {prefix!r} match the model "
                         f"{model.name!r}.")
    return status


def save_weights(model, filepath, overwrite=True, include_optimizer=False,
                 save_format=None):
    """Writes ``model``'s weights (and optionally optimizer state) to ``filepath``."""
    filepath = os.fspath(filepath)
    tf_format = _is_tf_format(filepath, save_format)
    if not overwrite and os.path.exists(filepath + ".index" if tf_format else filepath):
        raise FileExistsError(f"File {filepath} already exists and overwrite=False.")
    if tf_format:
        return _save_tf_checkpoint(model, filepath)
    keras3 = _is_keras3(filepath)
    optimizer = getattr(model, "optimizer", None)

    def write(f):
        if keras3:   # Keras 3 stores a built optimizer's state with the weights
            from dlframe.keras.saving import keras3_layout
            built = optimizer is not None and getattr(optimizer, "built", False)
            keras3_layout.write(f, model, optimizer if built or include_optimizer
                                and optimizer is not None else None)
            return
        write_weights_group(f, model)
        if include_optimizer and optimizer is not None:
            write_optimizer_group(f, optimizer)
    _atomic_write(filepath, write)


def _read_layers(f):
    if "layers" in f and not has_names(f, "layer_names"):
        root = f["layers"]
        return [(name, _keras3_values(root[name])) for name in root]
    out = []
    for name in read_names(f, "layer_names"):
        g = f[name]
        # a nested model's weight names are paths ('block/conv/kernel:0') that
        # h5py resolves inside the layer's group
        out.append((name, [np.asarray(g[w]) for w in read_names(g, "weight_names")]))
    return out


class _Nested(list):
    """Values of a Keras 3 layer group that also holds sub-layer groups."""


def _keras3_values(group):
    """A Keras 3 layer group's arrays: its ``vars``, or those of its only sub-layer
    (an RNN's ``cell``) when it has none itself; ``_Nested`` when sub-layers hold
    variables in an order dlframe cannot know."""
    values = [np.asarray(group["vars"][str(i)])
              for i in range(len(group["vars"]))] if "vars" in group else []
    subgroups = [key for key in group if key != "vars"]
    if not subgroups:
        return values
    if not values and len(subgroups) == 1:
        return _keras3_values(group[subgroups[0]])
    return _Nested(values)


def _keras3_keys(model):
    """{layer name: the key Keras 3 files it under}: the snake-case class name,
    ``_1``, ``_2``... for later layers of the same class, in model order."""
    from dlframe.keras.utils.generic_utils import to_snake_case
    keys, used = {}, {}
    for layer in getattr(model, "layers", []):
        key = to_snake_case(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        keys[layer.name] = key
    return keys


def read_weights_group(group, model, skip_mismatch=False, by_name=False):
    saved = _read_layers(group)
    targets = _layers_with_weights(model)
    if by_name:
        table = dict(saved)
        pairs = [(name, ws, table.get(name)) for name, ws in targets]
        pairs = [p for p in pairs if p[2] is not None]
    else:
        saved_nonempty = [(n, v) for n, v in saved if v or isinstance(v, _Nested)]
        target_nonempty = [(n, w) for n, w in targets if w]
        table = dict(saved_nonempty)
        keys = _keras3_keys(model)
        if len(table) == len(target_nonempty) and all(n in table for n, _ in
                                                      target_nonempty):
            # same layer names: pair by name (HDF5 may list groups alphabetically)
            saved_nonempty = [(n, table[n]) for n, _ in target_nonempty]
        elif len(table) == len(target_nonempty) and all(
                keys.get(n) in table for n, _ in target_nonempty):
            # a file Keras 3 wrote: its groups are named after the layers' classes
            saved_nonempty = [(keys[n], table[keys[n]]) for n, _ in target_nonempty]
        nested = [n for n, v in saved_nonempty if isinstance(v, _Nested)]
        if nested:
            raise ValueError(
                f"The weights of {nested} are stored per sub-layer (a Keras 3 file with "
                "nested layers), which dlframe cannot pair with its layers' variables. "
                "Move them with model.get_weights() / model.set_weights() (e.g. "
                "through numpy.savez), or save a Keras 2 layout file "
                "(model.save_weights('w.h5') in TF 2.15).")
        if len(saved_nonempty) != len(target_nonempty):
            raise ValueError(
                "Layer count mismatch when loading weights from file. Model expected "
                f"{len(target_nonempty)} layers, found {len(saved_nonempty)} saved layers.")
        pairs = [(n, w, v) for (n, w), (_, v) in zip(target_nonempty, saved_nonempty)]
    for name, ws, values in pairs:
        if len(ws) != len(values):
            message = (f"Layer '{name}' expected {len(ws)} variables, but received "
                       f"{len(values)} variables during loading. Expected: "
                       f"{[w.name for w in ws]}")
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights: {message}", stacklevel=3)
                continue
            raise ValueError(message)
        for w, v in zip(ws, values):
            if tuple(w.shape) != tuple(v.shape):
                message = (f"Shape mismatch in layer '{name}' for weight {w.name}: "
                           f"weight expects shape {tuple(w.shape)}, received value of "
                           f"shape {tuple(v.shape)} from the file")
                if skip_mismatch:
                    # as Keras: the layer keeps its values, the user is told why
                    warnings.warn(f"Skipping loading weights: {message}", stacklevel=3)
                    break
                raise ValueError(message)
        else:
            for w, v in zip(ws, values):
                w.assign(v.astype(np.dtype(w.dtype.name), copy=False))


def read_optimizer_group(group, optimizer, variables):
    if "optimizer" not in group:
        return
    g = group["optimizer"]["vars"]
    values = [np.asarray(g[str(i)]) for i in range(len(g))]
    if not optimizer.built:
        optimizer.build(variables)
    if len(values) != len(optimizer.variables):
        raise ValueError(f"The optimizer state in the file has {len(values)} variables "
                         f"but the optimizer has {len(optimizer.variables)}.")
    for var, v in zip(optimizer.variables, values):
        var.assign(v.astype(np.dtype(var.dtype.name), copy=False))


def load_weights(model, filepath, skip_mismatch=False, by_name=False,
                 include_optimizer=False):
    """Reads weights saved by ``save_weights`` (either layout) into ``model``."""
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath) and os.path.isfile(filepath + ".index"):
        if by_name:    # as Keras 2: a checkpoint matches by object graph only
            raise NotImplementedError(
                "Weights may only be loaded based on topology into Models when "
                "loading TensorFlow-formatted weights (got by_name=True to "
                f"load_weights); filepath={filepath}.")
        return _load_tf_checkpoint(model, filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}")
    source = None
    if os.path.isfile(filepath) and zipfile.is_zipfile(filepath):
        with zipfile.ZipFile(filepath) as z:   # a ``.keras`` archive's weights
            if "model.weights.h5" in z.namelist():
                source = io.BytesIO(z.read("model.weights.h5"))
    elif os.path.isfile(filepath) and _h5py().is_hdf5(filepath):
        source = filepath
    if source is None:
        # as Keras: another format (or a directory) is a ValueError, not h5py's OSError
        raise ValueError(
            f"File format not supported: filepath={filepath}. load_weights reads "
            "`.keras` archives, `.weights.h5`/`.h5` HDF5 files and TensorFlow "
            "checkpoint prefixes.")
    from dlframe.keras.saving import keras3_layout
    optimizer = getattr(model, "optimizer", None)
    with _h5py().File(source, "r") as f:
        group = f.get("model_weights", f)
        if not by_name and not has_names(group, "layer_names") and \
                keras3_layout.matches(group, model):
            keras3_layout.read(group, model, skip_mismatch=skip_mismatch)
            if optimizer is not None and (include_optimizer or optimizer.built):
                keras3_layout.read_optimizer(group, optimizer, model.trainable_variables)
            return
        read_weights_group(group, model, skip_mismatch=skip_mismatch, by_name=by_name)
        if include_optimizer and optimizer is not None:
            read_optimizer_group(f, optimizer, model.trainable_variables)
