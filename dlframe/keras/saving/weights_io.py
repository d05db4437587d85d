"""HDF5 weights files with Keras's layouts, written atomically.

``*.weights.h5`` uses Keras 3's layout (``layers/<name>/vars/<i>``, optimizer under
``optimizer/vars/<i>``); any other name uses Keras 2's ``save_weights`` layout
(root attribute ``layer_names``, one group per layer with ``weight_names``).
Files are written to a temporary file in the same directory and moved into place
with ``os.replace``, so a killed process never leaves a half-written file.
"""

import os
import tempfile

import numpy as np


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
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _is_keras3(filepath):
    return os.fspath(filepath).endswith(".weights.h5")


def write_weights_group(group, model, keras3):
    layers = _layers_with_weights(model)
    if keras3:
        root = group.create_group("layers", track_order=True)  # keep model order
        for name, ws in layers:
            g = root.create_group(name).create_group("vars")
            for i, w in enumerate(ws):
                g.create_dataset(str(i), data=np.asarray(w.numpy()))
        return
    group.attrs["layer_names"] = np.array([n.encode("utf8") for n, _ in layers])
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
        g.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])


def write_optimizer_group(group, optimizer):
    g = group.create_group("optimizer").create_group("vars")
    for i, v in enumerate(optimizer.variables):
        g.create_dataset(str(i), data=np.asarray(v.numpy()))


def save_weights(model, filepath, overwrite=True, include_optimizer=False):
    """Writes ``model``'s weights (and optionally optimizer state) to ``filepath``."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"File {filepath} already exists and overwrite=False.")
    keras3 = _is_keras3(filepath)

    def write(f):
        write_weights_group(f, model, keras3)
        if include_optimizer and getattr(model, "optimizer", None) is not None:
            write_optimizer_group(f, model.optimizer)
    _atomic_write(filepath, write)


def _read_layers(f):
    if "layers" in f and "layer_names" not in f.attrs:
        root = f["layers"]
        return [(name, [np.asarray(root[name]["vars"][str(i)])
                        for i in range(len(root[name]["vars"]))]) for name in root]
    names = [n.decode("utf8") if isinstance(n, bytes) else n
             for n in f.attrs["layer_names"]]
    out = []
    for name in names:
        g = f[name]
        wnames = [n.decode("utf8") if isinstance(n, bytes) else n
                  for n in g.attrs.get("weight_names", [])]
        out.append((name, [np.asarray(g[w]) for w in wnames]))
    return out


def read_weights_group(group, model, skip_mismatch=False, by_name=False):
    saved = _read_layers(group)
    targets = _layers_with_weights(model)
    if by_name:
        table = dict(saved)
        pairs = [(name, ws, table.get(name)) for name, ws in targets]
        pairs = [p for p in pairs if p[2] is not None]
    else:
        saved_nonempty = [(n, v) for n, v in saved if v]
        target_nonempty = [(n, w) for n, w in targets if w]
        table = dict(saved_nonempty)
        if len(table) == len(target_nonempty) and all(n in table for n, _ in
                                                      target_nonempty):
            # same layer names: pair by name (HDF5 may list groups alphabetically)
            saved_nonempty = [(n, table[n]) for n, _ in target_nonempty]
        if len(saved_nonempty) != len(target_nonempty):
            raise ValueError(
                "Layer count mismatch when loading weights from file. Model expected "
                f"{len(target_nonempty)} layers, found {len(saved_nonempty)} saved layers.")
        pairs = [(n, w, v) for (n, w), (_, v) in zip(target_nonempty, saved_nonempty)]
    for name, ws, values in pairs:
        if len(ws) != len(values):
            if skip_mismatch:
                continue
            raise ValueError(f"Layer '{name}' expected {len(ws)} variables, but received "
                             f"{len(values)} variables during loading. Expected: "
                             f"{[w.name for w in ws]}")
        for w, v in zip(ws, values):
            if tuple(w.shape) != tuple(v.shape):
                if skip_mismatch:
                    break
                raise ValueError(f"Shape mismatch in layer '{name}' for weight {w.name}: "
                                 f"weight expects shape {tuple(w.shape)}, received value of "
                                 f"shape {tuple(v.shape)} from the file")
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
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}")
    with _h5py().File(filepath, "r") as f:
        group = f.get("model_weights", f)
        read_weights_group(group, model, skip_mismatch=skip_mismatch, by_name=by_name)
        if include_optimizer and getattr(model, "optimizer", None) is not None:
            read_optimizer_group(f, model.optimizer, model.trainable_variables)
