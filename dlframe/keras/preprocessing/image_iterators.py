"""Keras 2 image batch iterators: ``Iterator`` (the base), ``NumpyArrayIterator``
(``ImageDataGenerator.flow``) and ``DirectoryIterator``
(``ImageDataGenerator.flow_from_directory``).

Each is a ``PyDataset`` (``fit`` visits every batch once per epoch) and also an
endless Python iterator (``next(it)`` wraps around and reshuffles), as in Keras.
"""

import math
import os
import threading
import warnings

from dlframe.backends.base import np  # host-side image utility: returns NumPy, as Keras
from dlframe.keras.utils.py_dataset import PyDataset

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
_CLASS_MODES = ("categorical", "binary", "sparse", "input", None)
_COLOR_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def _floatx():
    from dlframe.keras import backend
    return backend.floatx()


def _data_format(data_format):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError('`data_format` should be `"channels_last"` (channel after row '
                         'and column) or `"channels_first"` (channel before row and '
                         f"column). Received: {data_format}")
    return data_format


def _subset_bounds(subset, validation_split):
    """The ``(start, stop)`` fractions of the data a subset keeps: validation is the
    leading ``validation_split``, training the rest."""
    if subset is None:
        return 0.0, 1.0
    if subset not in ("training", "validation"):
        raise ValueError(f"Invalid subset name: {subset}; expected 'training' or "
                         "'validation'")
    if not validation_split:
        raise ValueError(f"`subset={subset!r}` needs an ImageDataGenerator with a "
                         "`validation_split`.")
    return (0.0, validation_split) if subset == "validation" else \
        (validation_split, 1.0)


class Iterator(PyDataset):
    """Batches of ``n`` samples by index, reshuffled every epoch when ``shuffle``.

    Subclasses implement ``_get_batches_of_transformed_samples(index_array)``.

    Args:
      n: the number of samples.
      batch_size: samples per batch.
      shuffle: shuffle the samples every epoch.
      seed: seeds NumPy's global generator before every batch (reproducible
        augmentation).
    """

    white_list_formats = WHITE_LIST_FORMATS

    def __init__(self, n, batch_size, shuffle, seed):
        super().__init__()
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = np.random.permutation(self.n)

    def __getitem__(self, idx):
        if not 0 <= idx < len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has "
                             f"length {len(self)}")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        rows = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(rows)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        """Starts ``next()`` over from the first batch."""
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            if self.n == 0:
                start = 0
            else:
                start = (self.batch_index * self.batch_size) % self.n
            if self.n > start + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[start:start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            rows = next(self.index_generator)
        return self._get_batches_of_transformed_samples(rows)

    next = __next__

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError

    def _augment(self, image, generator):
        if generator is None:
            return image
        params = generator.get_random_transform(image.shape)
        return generator.standardize(generator.apply_transform(image, params))

    def _save_batch(self, batch_x, index_array):
        from dlframe.keras.utils.image_utils import array_to_img
        for i, j in enumerate(index_array):
            img = array_to_img(batch_x[i], self.data_format, scale=True)
            name = (f"{self.save_prefix}_{j}_{np.random.randint(10000)}."
                    f"{self.save_format}")
            img.save(os.path.join(self.save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """Augmented batches of in-memory images (``ImageDataGenerator.flow``).

    Args:
      x: images ``(n, rows, cols, channels)`` (or channels first), or a tuple
        ``(images, [other arrays])`` whose other arrays are batched alongside.
      y: targets, or None for image-only batches.
      image_data_generator: the ``ImageDataGenerator`` (None: no augmentation).
      batch_size, shuffle, seed: see ``Iterator``.
      sample_weight: per-sample weights added as the batch's third item.
      data_format: 'channels_last' (default) or 'channels_first'.
      save_to_dir, save_prefix, save_format: also write every augmented image.
      subset: 'training' or 'validation' with the generator's ``validation_split``.
      ignore_class_split: allow a ``subset`` split whose parts have different
        classes (an error otherwise).
      dtype: dtype of the image batches (default floatx).
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None,
                 ignore_class_split=False, dtype=None):
        self.dtype = dtype or _floatx()
        self.data_format = _data_format(data_format)
        misc = []
        if isinstance(x, (tuple, list)):
            if len(x) != 2 or not isinstance(x[1], (list, tuple, np.ndarray)):
                raise ValueError("`x` as a tuple must be `(images, [other arrays])`."
                                 f" Received a {type(x).__name__} of {len(x)} items")
            misc = [np.asarray(a) for a in
                    (x[1] if isinstance(x[1], (list, tuple)) else [x[1]])]
            x = x[0]
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4. "
                             f"You passed an array with shape {x.shape}")
        for name, arr in [("y", y), ("sample_weight", sample_weight)] + \
                [("x_misc", a) for a in misc]:
            if arr is not None and len(arr) != len(x):
                raise ValueError(f"`x` (images tensor) and `{name}` should have the "
                                 f"same length. Found: x.shape = {x.shape}, "
                                 f"{name}.shape = {np.asarray(arr).shape}")
        channels_axis = 3 if self.data_format == "channels_last" else 1
        if x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn("NumpyArrayIterator is set to use the data format "
                          f"convention {self.data_format!r} (channels on axis "
                          f"{channels_axis}), "
                          f"but the input has {x.shape[channels_axis]} channels.",
                          stacklevel=2)
        start, stop = _subset_bounds(
            subset, getattr(image_data_generator, "_validation_split", 0.0))
        lo, hi = int(start * len(x)), int(stop * len(x))
        if subset is not None and y is not None and not ignore_class_split:
            cut = hi if subset == "validation" else lo
            if not np.array_equal(np.unique(np.asarray(y)[:cut]),
                                  np.unique(np.asarray(y)[cut:])):
                raise ValueError("Training and validation subsets have different "
                                 "number of classes after the split. If your numpy "
                                 "arrays are sorted by the label, you might want to "
                                 "shuffle them.")
        self.x = x[lo:hi]
        self.y = None if y is None else np.asarray(y)[lo:hi]
        self.sample_weight = None if sample_weight is None else \
            np.asarray(sample_weight)[lo:hi]
        self.x_misc = [a[lo:hi] for a in misc]
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix = save_to_dir, save_prefix
        self.save_format = save_format
        super().__init__(len(self.x), batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            batch_x[i] = self._augment(self.x[j], self.image_data_generator)
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        inputs = batch_x if not self.x_misc else \
            [batch_x] + [a[index_array] for a in self.x_misc]
        if self.y is None:
            return inputs
        out = (inputs, self.y[index_array])
        if self.sample_weight is not None:
            out += (self.sample_weight[index_array],)
        return out


def _class_files(folder, follow_links):
    files = []
    for root, _, names in sorted(os.walk(folder, followlinks=follow_links)):
        for name in sorted(names):
            if name.lower().endswith(tuple("." + f for f in WHITE_LIST_FORMATS)):
                files.append(os.path.join(root, name))
    return files


class DirectoryIterator(Iterator):
    """Augmented batches of the images under ``directory``, one subfolder per class
    (``ImageDataGenerator.flow_from_directory``).

    Args:
      directory: the folder of class subfolders.
      image_data_generator: the ``ImageDataGenerator`` (None: no augmentation).
      target_size: ``(height, width)`` every image is resized to.
      color_mode: 'rgb', 'rgba' or 'grayscale'.
      classes: the class subfolders, in label order (default: all, sorted).
      class_mode: 'categorical' (one-hot), 'binary', 'sparse' (class index), 'input'
        (the images themselves) or None (images only).
      batch_size, shuffle, seed: see ``Iterator``.
      data_format: 'channels_last' (default) or 'channels_first'.
      save_to_dir, save_prefix, save_format: also write every augmented image.
      follow_links: follow symbolic links to folders.
      subset: 'training' or 'validation' with the generator's ``validation_split``
        (the first ``validation_split`` of each class's sorted files validate).
      interpolation: Pillow resampling of ``load_img``.
      keep_aspect_ratio: crop to the target aspect ratio before resizing.
      dtype: dtype of the image batches (default floatx).
    """

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical",
                 batch_size=32, shuffle=True, seed=None, data_format=None,
                 save_to_dir=None, save_prefix="", save_format="png",
                 follow_links=False, subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype=None):
        if color_mode not in _COLOR_CHANNELS:
            raise ValueError(f"Invalid color mode: {color_mode}; expected \"rgb\", "
                             "\"rgba\", or \"grayscale\".")
        if class_mode not in _CLASS_MODES:
            raise ValueError(f"Invalid class_mode: {class_mode}; expected one of "
                             "\"categorical\", \"binary\", \"sparse\", \"input\" or "
                             "None.")
        self.directory = os.fspath(directory)
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.color_mode, self.class_mode = color_mode, class_mode
        self.data_format = _data_format(data_format)
        self.dtype = dtype or _floatx()
        self.save_to_dir, self.save_prefix = save_to_dir, save_prefix
        self.save_format = save_format
        self.interpolation, self.keep_aspect_ratio = interpolation, keep_aspect_ratio
        channels = _COLOR_CHANNELS[color_mode]
        self.image_shape = self.target_size + (channels,) \
            if self.data_format == "channels_last" else (channels,) + self.target_size
        if not classes:
            classes = sorted(d for d in os.listdir(self.directory)
                             if os.path.isdir(os.path.join(self.directory, d)))
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        start, stop = _subset_bounds(
            subset, getattr(image_data_generator, "_validation_split", 0.0))
        self.filenames, labels = [], []
        for name in classes:
            files = _class_files(os.path.join(self.directory, name), follow_links)
            keep = files[int(start * len(files)):int(stop * len(files))]
            self.filenames += [os.path.relpath(f, self.directory) for f in keep]
            labels += [self.class_indices[name]] * len(keep)
        self.classes = np.asarray(labels, dtype="int32")
        self.samples = len(self.filenames)
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        """Absolute-or-given paths of the images, in sample order."""
        return [os.path.join(self.directory, f) for f in self.filenames]

    @property
    def labels(self):
        return self.classes

    def _get_batches_of_transformed_samples(self, index_array):
        from dlframe.keras.preprocessing.image import img_to_array
        from dlframe.keras.utils.image_utils import load_img
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        paths = self.filepaths
        for i, j in enumerate(index_array):
            img = load_img(paths[j], color_mode=self.color_mode,
                           target_size=self.target_size,
                           interpolation=self.interpolation,
                           keep_aspect_ratio=self.keep_aspect_ratio)
            x = img_to_array(img, data_format=self.data_format, dtype=self.dtype)
            img.close()
            batch_x[i] = self._augment(x, self.image_data_generator)
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        if self.class_mode is None:
            return batch_x
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode == "categorical":
            batch_y = np.zeros((len(index_array), self.num_classes), dtype=self.dtype)
            batch_y[np.arange(len(index_array)), self.classes[index_array]] = 1.0
        else:
            batch_y = self.classes[index_array].astype(self.dtype)
        return batch_x, batch_y
