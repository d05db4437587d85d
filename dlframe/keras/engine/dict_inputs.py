"""Matching a dict of data to a functional model's inputs.

Keras 3 (TF 2.21) matches a dict fed to a functional model by the keys of the
model's ``inputs`` structure (``Model({"s": Input(name="a"), ...}, out)`` takes
``{"s": ...}``); Keras 2 matched by the names of the Input layers (``{"a": ...}``).
Both spellings are accepted here, structure keys first.
"""

import warnings

from dlframe.keras.utils import tree


def _pick_by_structure(structure, data):
    """``structure`` (a dict, maybe nested) filled from ``data`` by its keys, or
    None when a key is missing; extra keys in ``data`` are ignored (as Keras 2;
    Keras 3 warns and packs the sorted values of all keys, extras included)."""
    if not isinstance(data, dict):
        return None
    picked = {}
    for key, sub in structure.items():
        if key not in data:
            return None
        if isinstance(sub, dict):
            value = _pick_by_structure(sub, data[key])
            if value is None:
                return None
        else:
            value = data[key]
        picked[key] = value
    return picked


def _is_flat_dict(structure):
    return isinstance(structure, dict) and not any(
        isinstance(v, (dict, list, tuple)) for v in structure.values())


def spec_names(structure, input_names):
    """Names of a functional model's input specs, in the order of its flat inputs:
    a flat dict's sorted keys (Keras 3), none for a nested dict (matched here, not
    by the spec), else the Input layers' names."""
    if isinstance(structure, dict):
        if _is_flat_dict(structure):
            return sorted(structure)
        return [None] * len(input_names)
    return list(input_names)


def _describe(structure):
    """The expected structure with each Input shown by its name (TF's warning)."""
    return tree.map_structure(lambda kt: kt._keras_history[0].name, structure)


def match_dict_inputs(structure, input_names, data):
    """Returns ``data`` (a dict) rearranged into ``structure``, the model's inputs.

    Args:
      structure: the nested ``inputs`` the model was built with (KerasTensors).
      input_names: names of the Input layers, in the order of the flat inputs.
      data: the dict fed to the model.

    Returns:
      ``data`` packed as ``structure`` (a dict structure keeps its keys, a list or
      single input becomes the flat list / value).

    Raises:
      ValueError: when neither the structure's keys nor the Input names are all
        present in ``data``, naming the expected keys and the keys received.
    """
    if isinstance(structure, dict):
        picked = _pick_by_structure(structure, data)
        if picked is not None:
            return picked
    flat_structure = tree.flatten(structure)
    if all(n in data for n in input_names):   # Keras 2: by the Input layers' names
        values = [data[n] for n in input_names]
        if isinstance(structure, dict):
            return tree.pack_sequence_as(structure, values)
        return values if isinstance(structure, (list, tuple)) else values[0]
    if isinstance(structure, dict) and not _is_flat_dict(structure) and len(
            tree.flatten(data)) == len(flat_structure):
        # Keras 3 flattens a mismatched dict for a nested structure, with a warning
        warnings.warn("The structure of `inputs` doesn't match the expected "
                      f"structure.\nExpected: {_describe(structure)}\nReceived: "
                      f"inputs keys {list(data)}", stacklevel=3)
        return tree.pack_sequence_as(structure, tree.flatten(data))
    keys = sorted(structure) if isinstance(structure, dict) else list(input_names)
    missing = [k for k in keys if k not in data or (
        isinstance(structure, dict) and isinstance(structure[k], dict)
        and _pick_by_structure(structure[k], data[k]) is None)]
    expected = f"Expected the following keys: {keys}"
    if keys != list(input_names):
        expected += f" (or the Input names {list(input_names)})"
    raise ValueError(f'Missing data for input "{missing[0]}". You passed '
                     f"a data dictionary with keys {list(data)}. {expected}")
