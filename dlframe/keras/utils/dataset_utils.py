"""``keras.utils.split_dataset`` and the directory indexing shared by
``image_dataset_from_directory`` and ``text_dataset_from_directory``.

File order, the shuffling of file lists (NumPy ``RandomState(seed)``) and of
``split_dataset`` samples (Python ``random.Random(seed)``) follow Keras, so the same
seed puts the same files in the training and validation subsets.
"""

import os
import random as _py_random

from dlframe.backends.base import np  # host-side file lists and label arrays
from dlframe.data import Dataset
from dlframe.data.options import AUTOTUNE


# ---------------------------------------------------------------- directories
def _valid_files(directory, follow_links, formats):
    """(root, file name) of every file with an allowed extension, in sorted walk order."""
    walk = sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0])
    for root, _, files in walk:
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory, labels, formats, class_names=None, shuffle=True,
                    seed=None, follow_links=False, verbose=True):
    """Lists the files of ``directory`` with their labels (Keras's order and shuffle).

    Returns:
      ``(file_paths, labels, class_names)``; labels is an int32 array (inferred), the
      given list, or None.
    """
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: {directory!r}")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 "subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError("When `labels=None` (no labels), argument `class_names` "
                             "cannot be specified." if labels is None else
                             "When argument `labels` is specified, argument "
                             "`class_names` cannot be specified (the `class_names` will "
                             "be the sorted list of labels).")
        subdirs = [""]
    file_paths, found_labels = [], []
    for index, subdir in enumerate(subdirs):
        for root, name in _valid_files(os.path.join(directory, subdir), follow_links,
                                       formats):
            file_paths.append(os.path.join(root, name))
            found_labels.append(index)
    if labels == "inferred":
        class_names = list(subdirs)
        labels = np.asarray(found_labels, dtype=np.int32)
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(file_paths):
            raise ValueError("Expected the lengths of `labels` to match the number of "
                             f"files in the target directory. len(labels) is "
                             f"{len(labels)} while we found {len(file_paths)} files in "
                             f"directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        print(f"Found {len(file_paths)} files." if labels is None else
              f"Found {len(file_paths)} files belonging to {len(class_names)} classes.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Raises ValueError for inconsistent ``validation_split``/``subset``/``seed``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and "
                         "inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must "
                         "provide a `seed` argument, to make sure that there is no "
                         "overlap between the training and validation subset.")


def training_or_validation_split(samples, labels, validation_split, subset,
                                 verbose=True):
    """The training (first) or validation (last ``validation_split``) part."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print(f"Using {len(samples) - num_val} files for training.")
        part = slice(0, len(samples) - num_val)
    elif subset == "validation":
        if verbose:
            print(f"Using {num_val} files for validation.")
        part = slice(len(samples) - num_val, len(samples))
    else:
        raise ValueError('`subset` must be either "training" or "validation", '
                         f"received: {subset}")
    return samples[part], None if labels is None else labels[part]


def check_label_mode(label_mode):
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')


def check_labels_arg(labels, class_names):
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` argument should be a list/tuple of integer "
                             "labels, of the same size as the number of files in the "
                             "target directory. If you wish to infer the labels from "
                             "the subdirectory names in the target directory, pass "
                             '`labels="inferred"`. If you wish to get a dataset that '
                             "only contains the files (no labels), pass `labels=None`. "
                             f"Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")


def labels_dataset(labels, label_mode, num_classes):
    """int32 labels, float32 ``[1]`` binary labels or float32 one-hot vectors."""
    labels = np.asarray(labels, dtype=np.int32)
    if label_mode == "binary":
        labels = labels.astype(np.float32)[:, None]
    elif label_mode == "categorical":
        labels = np.eye(num_classes, dtype=np.float32)[labels]
    return Dataset.from_tensor_slices(labels)


def files_dataset(paths, labels, label_mode, num_classes, load, shuffle, batch_size,
                  seed):
    """(Paths, labels) -> shuffled -> ``load``-ed paths -> batched -> prefetched."""
    ds = Dataset.from_tensor_slices(np.asarray(paths, dtype=object))
    if label_mode is not None:
        ds = Dataset.zip((ds, labels_dataset(labels, label_mode, num_classes)))
    if shuffle:   # shuffling paths is cheap: files are read after it
        ds = ds.shuffle(batch_size * 8 if batch_size else 1024, seed=seed)
    if label_mode is not None:
        ds = ds.map(lambda path, label: (load(path), label), num_parallel_calls=AUTOTUNE)
    else:
        ds = ds.map(load, num_parallel_calls=AUTOTUNE)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds.prefetch(AUTOTUNE)


def datasets_from_directory(directory, labels, label_mode, class_names, formats, load,
                            batch_size, shuffle, seed, validation_split, subset,
                            follow_links, verbose, kind):
    """The dataset (or, for ``subset='both'``, training and validation datasets) of
    the files of ``directory``, with ``class_names`` and ``file_paths`` attributes."""
    check_labels_arg(labels, class_names)
    check_label_mode(label_mode)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, found, class_names = index_directory(
        directory, labels, formats, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0
    subsets = ("training", "validation") if subset == "both" else (subset,)
    out = []
    for part in subsets:
        part_paths, part_labels = training_or_validation_split(
            paths, found, validation_split, part, verbose)
        if not part_paths:
            which = f"{part} " if subset == "both" else ""
            raise ValueError(f"No {which}{kind} found in directory {directory}. Allowed "
                             f"formats: {formats}")
        reshuffle = shuffle and not (subset == "both" and part == "validation")
        ds = files_dataset(part_paths, part_labels, label_mode, num_classes, load,
                           reshuffle, batch_size, seed)
        ds.class_names = class_names
        ds.file_paths = list(part_paths)
        out.append(ds)
    return out if subset == "both" else out[0]


# ---------------------------------------------------------------- split_dataset
def _samples(dataset):
    """A list of samples (nested tuples/dicts of NumPy values) of ``dataset``."""
    if isinstance(dataset, (list, tuple)):
        if not dataset:
            raise ValueError("Received an empty list dataset. Please provide a non-empty "
                             "list of arrays.")
        arrays = [np.asarray(a) for a in dataset]
        for i, a in enumerate(arrays):
            if a.shape[:1] != arrays[0].shape[:1]:
                raise ValueError("Received a list of NumPy arrays with different lengths."
                                 f" Mismatch found at index {i}, Expected shape="
                                 f"{arrays[0].shape} Received shape={a.shape}. Please "
                                 "provide a list of NumPy arrays of the same length.")
        return list(zip(*arrays))
    if isinstance(dataset, np.ndarray):
        return list(dataset)
    if isinstance(dataset, Dataset):
        if hasattr(dataset, "_batch_size"):
            dataset = dataset.unbatch()
        return list(dataset.as_numpy_iterator())
    raise TypeError("The `dataset` argument must be either a `tf.data.Dataset` object, "
                    f"or a list/tuple of arrays. Received: dataset={dataset} of type "
                    f"{type(dataset)}")


def _split_sizes(left_size, right_size, total):
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, "
                            f"Received: type({name})={type(size)}.")
        if size is not None and (size <= 0 or size >= (1 if type(size) is float
                                                         else total)):
            raise ValueError(f"`{name}` should be either a positive integer smaller than "
                             f"{total}, or a float within the range `[0, 1]`. Received: "
                             f"{name}={size}")
    if type(left_size) is float and type(right_size) is float and \
            left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It "
                         "must be less than or equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than "
                         f"the {total}. Received: left_size + right_size = "
                         f"{left + right} and total_length = {total}")
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left} and "
                             f"`right_size`={right}. Resulting {side} side dataset split "
                             "will be empty. Adjust any of the aforementioned parameters")
    return int(left), int(right)


def _stack(samples):
    """Samples (same structure) stacked into arrays for ``from_tensor_slices``."""
    first = samples[0]
    if isinstance(first, dict):
        return {k: _stack([s[k] for s in samples]) for k in first}
    if isinstance(first, tuple):
        return tuple(_stack([s[i] for s in samples]) for i in range(len(first)))
    return np.asarray(samples)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Splits a small dataset into a left and a right ``tf.data.Dataset``.

    Args:
      dataset: a ``tf.data.Dataset`` (a batched one is split by samples and the
        splits re-batched), a NumPy array or a list/tuple of arrays of equal length.
      left_size: a fraction in (0, 1) or a number of samples; default: the rest.
      right_size: the same for the right split.
      shuffle: shuffle the samples before splitting.
      seed: the shuffling seed.

    Returns:
      ``(left_dataset, right_dataset)``.

    Raises:
      ValueError: neither size given, sizes out of range, or an empty split.
    """
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be "
                         "specified. Received: left_size=None and right_size=None")
    samples = _samples(dataset)
    if not samples:
        raise ValueError("Received an empty dataset. Argument `dataset` must be a "
                         "non-empty list/tuple of `numpy.ndarray` objects or "
                         "`tf.data.Dataset` objects.")
    if shuffle:
        _py_random.Random(_py_random.randint(0, int(1e6)) if seed is None
                          else seed).shuffle(samples)
    left, right = _split_sizes(left_size, right_size, len(samples))
    batch = getattr(dataset, "_batch_size", None) if isinstance(dataset, Dataset) \
        else None
    out = []
    for part in (samples[:left], samples[len(samples) - right:]):
        ds = Dataset.from_tensor_slices(_stack(part))
        out.append((ds.batch(batch) if batch else ds).prefetch(AUTOTUNE))
    return tuple(out)
