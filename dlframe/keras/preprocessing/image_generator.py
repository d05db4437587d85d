"""Keras 2 ``keras.preprocessing.image.ImageDataGenerator``: real-time NumPy image
augmentation and normalization feeding ``flow`` and ``flow_from_directory`` batches.

Random draws come from NumPy's global generator, in Keras's order, so
``np.random.seed`` (or the ``seed`` arguments) repeat the same augmentation.
"""

import warnings

from dlframe.backends.base import np  # host-side image utility: returns NumPy, as Keras
from dlframe.keras.preprocessing import image_iterators as _iters
from dlframe.keras.preprocessing import image_transforms as _tf


def _shift(shift_range, size):
    """A shift in pixels: from the values of a list/int range with a random sign, or
    uniform in ``[-range, range]`` for a float (a fraction of ``size`` below 1)."""
    try:
        value = np.random.choice(shift_range) * np.random.choice([-1, 1])
    except ValueError:  # a float range
        value = np.random.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        value *= size
    return value


def _warn_not_fit(option):
    warnings.warn(f"This ImageDataGenerator specifies `{option}`, but it hasn't been "
                  "fit on any training data. Fit it first by calling "
                  "`.fit(numpy_data)`.", stacklevel=3)


class ImageDataGenerator:
    """Generates batches of images with real-time augmentation.

    Args:
      featurewise_center, featurewise_std_normalization: subtract the dataset mean /
        divide by its std per channel (statistics from ``fit``).
      samplewise_center, samplewise_std_normalization: the same per image.
      zca_whitening, zca_epsilon: ZCA whitening (matrix from ``fit``).
      rotation_range: random rotations in ``[-range, range]`` degrees.
      width_shift_range, height_shift_range: float (fraction of the size, or
        pixels when >= 1), int or list of pixel shifts.
      brightness_range: a pair of brightness factors.
      shear_range: shear angle range in degrees.
      zoom_range: float ``z`` (zoom in ``[1-z, 1+z]``) or a pair.
      channel_shift_range: random channel shifts in ``[-range, range]``.
      fill_mode, cval: how pixels outside the image are filled.
      horizontal_flip, vertical_flip: random flips.
      rescale: a factor multiplied into the data (before other standardization).
      preprocessing_function: called on every image first.
      data_format: 'channels_last' (default) or 'channels_first'.
      validation_split: the fraction reserved for ``subset='validation'``.
      interpolation_order: spline order of the affine resampling.
      dtype: dtype of the generated arrays (default floatx).
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False,
                 samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None,
                 data_format=None, validation_split=0.0, interpolation_order=1,
                 dtype=None):
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.interpolation_order = interpolation_order
        self.dtype = dtype or _iters._floatx()
        self.data_format = _iters._data_format(data_format)
        if self.data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        if not 0 <= validation_split < 1:
            raise ValueError("`validation_split` must be strictly between 0 and 1. "
                             f"Received: {validation_split}")
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None
        if np.isscalar(zoom_range):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2:
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError("`zoom_range` should be a float or a tuple or list of two "
                             f"floats. Received: {zoom_range}")
        if brightness_range is not None:
            _tf._range_pair(brightness_range, "brightness_range")
        self.brightness_range = brightness_range
        # Normalizations that need another one switch it on (or off), with a warning.
        for needs, flag, value in (("zca_whitening", "featurewise_center", True),
                                   ("zca_whitening", "featurewise_std_normalization",
                                    False),
                                   ("featurewise_std_normalization",
                                    "featurewise_center", True),
                                   ("samplewise_std_normalization",
                                    "samplewise_center", True)):
            if getattr(self, needs) and getattr(self, flag) != value:
                setattr(self, flag, value)
                warnings.warn(f"This ImageDataGenerator specifies `{needs}`, which "
                              f"overrides setting of `{flag}`.", stacklevel=2)

    # -- batches ---------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None,
             seed=None, save_to_dir=None, save_prefix="", save_format="png",
             ignore_class_split=False, subset=None):
        """A ``NumpyArrayIterator`` of augmented batches of the arrays ``x``/``y``."""
        return _iters.NumpyArrayIterator(
            x, y, self, batch_size=batch_size, shuffle=shuffle,
            sample_weight=sample_weight, seed=seed, data_format=self.data_format,
            save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
            ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", follow_links=False, subset=None,
                            interpolation="nearest", keep_aspect_ratio=False):
        """A ``DirectoryIterator`` of augmented batches of the images in the class
        subfolders of ``directory``."""
        return _iters.DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode,
            keep_aspect_ratio=keep_aspect_ratio, classes=classes, class_mode=class_mode,
            data_format=self.data_format, batch_size=batch_size, shuffle=shuffle,
            seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, follow_links=follow_links, subset=subset,
            interpolation=interpolation, dtype=self.dtype)

    def flow_from_dataframe(self, *args, **kwargs):
        """Not provided: use ``flow_from_directory`` or ``flow`` on loaded arrays."""
        raise NotImplementedError(
            "ImageDataGenerator.flow_from_dataframe is not provided by dlframe; load "
            "the images into arrays and use `flow`, or use `flow_from_directory`.")

    # -- normalization -----------------------------------------------------------
    def standardize(self, x):
        """Applies ``preprocessing_function``, ``rescale`` and the sample/feature-wise
        normalizations to one image or a batch (in place for float arrays)."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x = x * self.rescale
        channel_axis = self.channel_axis - 1
        if self.samplewise_center:
            x = x - np.mean(x, axis=channel_axis, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (np.std(x, axis=channel_axis, keepdims=True) + 1e-6)
        if self.featurewise_center:
            if self.mean is None:
                _warn_not_fit("featurewise_center")
            else:
                x = x - self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                _warn_not_fit("featurewise_std_normalization")
            else:
                x = x / (self.std + 1e-6)
        if self.zca_whitening:
            if self.zca_whitening_matrix is None:
                _warn_not_fit("zca_whitening")
            else:
                flat = np.reshape(x, (-1, np.prod(x.shape[-3:])))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the feature-wise mean, std and ZCA matrix of the images ``x``
        (rank 4), after ``rescale`` and (with ``augment``) ``rounds`` augmentations."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with "
                             f"shape: {x.shape}")
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            x = np.stack([self.random_transform(x[i]) for _ in range(rounds)
                          for i in range(len(x))])
        stats_axes = (0, self.row_axis, self.col_axis)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=stats_axes), shape)
            x = x - self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=stats_axes), shape)
            x = x / (self.std + 1e-6)
        if self.zca_whitening:
            flat = np.reshape(x, (len(x), -1)).astype(np.float64)
            sigma = flat.T @ flat / len(x)
            u, s, _ = np.linalg.svd(sigma)
            self.zca_whitening_matrix = (u / np.sqrt(s + self.zca_epsilon)) @ u.T

    # -- random augmentation -----------------------------------------------------
    def get_random_transform(self, img_shape, seed=None):
        """A dict of random transformation parameters for one image of
        ``img_shape``."""
        if seed is not None:
            np.random.seed(seed)
        row_axis, col_axis = self.row_axis - 1, self.col_axis - 1
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = _shift(self.height_shift_range, img_shape[row_axis]) \
            if self.height_shift_range else 0
        ty = _shift(self.width_shift_range, img_shape[col_axis]) \
            if self.width_shift_range else 0
        shear = np.random.uniform(-self.shear_range, self.shear_range) \
            if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range,
                                              self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0],
                                           self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """Applies ``get_random_transform``-style parameters to one image."""
        p = transform_parameters
        row_axis, col_axis = self.row_axis - 1, self.col_axis - 1
        channel_axis = self.channel_axis - 1
        x = _tf.apply_affine_transform(
            x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
            p.get("zx", 1), p.get("zy", 1), row_axis=row_axis, col_axis=col_axis,
            channel_axis=channel_axis, fill_mode=self.fill_mode, cval=self.cval,
            order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = _tf.apply_channel_shift(x, p["channel_shift_intensity"], channel_axis)
        if p.get("flip_horizontal", False):
            x = np.flip(x, col_axis)
        if p.get("flip_vertical", False):
            x = np.flip(x, row_axis)
        if p.get("brightness") is not None:
            x = _tf.apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x, seed=None):
        """One image, randomly augmented."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))
