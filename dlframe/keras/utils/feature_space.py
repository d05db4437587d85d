"""``keras.utils.FeatureSpace``: one object that preprocesses and encodes a dict of
structured (tabular) features, as in the keras.io example "Structured data
classification with FeatureSpace".

Each feature gets a preprocessing layer (Normalization, IntegerLookup, StringLookup,
Discretization, Hashing, Rescaling or one of the user's); ``adapt`` fits those layers
on a dataset of dicts; crosses hash pairs of preprocessed features with
HashedCrossing; ``one_hot`` features are then multi-hot encoded with
CategoryEncoding, and the results are concatenated (``output_mode="concat"``,
features in name order, then crosses in name order) or returned as a dict.

The same layers run on tensors (``feature_space(batch)``, e.g. inside
``Dataset.map``) and on Keras inputs (``get_encoded_features()``), so a model built
on the encoded features can be joined to ``get_inputs()`` for inference on raw dicts.
"""

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras import backend
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_layer import Input
from dlframe.keras.layers.hashed_crossing import HashedCrossing
from dlframe.keras.layers.preprocessing import Normalization, Rescaling
from dlframe.keras.layers.preprocessing_lookup import (
    CategoryEncoding,
    Discretization,
    Hashing,
    IntegerLookup,
    StringLookup,
)
from dlframe.keras.layers.preprocessing_text import TextVectorization
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import math as _math

_FEATURE_MODES = ("int", "one_hot", "float")
_CROSS_MODES = ("int", "one_hot")


def _check_mode(output_mode, allowed):
    if output_mode not in allowed:
        raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                         f"{set(allowed)}. Received: output_mode={output_mode!r}")


class MissingFeatureError(KeyError, ValueError):
    """A feature of the FeatureSpace is absent from the data it is called on (TF
    raises ``KeyError``; a ``ValueError`` too, as this module raised before)."""


class Cross:
    """A feature cross: the named features' values hashed together into
    ``crossing_dim`` bins (by a ``keras.layers.HashedCrossing`` layer).

    Args:
      feature_names: the names (at least two) of the features to cross.
      crossing_dim: number of hash bins.
      output_mode: ``"one_hot"`` (multi-hot vector of ``crossing_dim``) or ``"int"``.
    """

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        _check_mode(output_mode, _CROSS_MODES)
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self):
        """``"a_X_b"`` for a cross of features ``a`` and ``b``."""
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """One feature of a FeatureSpace: its input dtype, its preprocessing layer and
    how the layer's output is encoded (``"int"``, ``"one_hot"`` or ``"float"``).

    Args:
      dtype: dtype of the raw input (``"float32"``, ``"int32"``, ``"string"``).
      preprocessor: a Keras layer (or its serialized config).
      output_mode: ``"one_hot"`` multi-hot encodes the preprocessor's integer output;
        ``"int"`` and ``"float"`` keep it as it is.
    """

    def __init__(self, dtype, preprocessor, output_mode):
        _check_mode(output_mode, _FEATURE_MODES)
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = generic_utils.deserialize_keras_object(
                preprocessor, module_objects=_layer_classes(),
                printable_module_name="preprocessor")
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self):
        return {"dtype": self.dtype,
                "preprocessor": generic_utils.serialize_keras_object(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _layer_classes():
    from dlframe.keras import layers
    return layers._layer_objects()


class TFDIdentity(Layer):
    """The ``"float"`` feature's preprocessor: its input as float32 (Keras 3 files
    name it ``TFDIdentity``)."""

    def call(self, inputs):
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        return x if x.dtype == dtypes.float32 else _math.cast(x, dtypes.float32)

    def compute_output_shape(self, input_shape):
        return input_shape


class TFDConcat(Layer):
    """Concatenates the encoded features on ``axis`` (Keras 3 files name it
    ``TFDConcat``); a single feature passes through."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        parts = list(inputs)
        return parts[0] if len(parts) == 1 else _array.concat(parts, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _named(name, kind):
    return f"{name or backend.unique_object_name(kind)}_preprocessor"


def _cardinality(layer):
    """The size of the integer space ``layer`` maps into (None if unknown)."""
    if isinstance(layer, (IntegerLookup, StringLookup)):
        return layer.vocabulary_size()
    if isinstance(layer, CategoryEncoding):
        return layer.num_tokens
    if isinstance(layer, Discretization):
        if layer.bin_boundaries:
            return len(layer.bin_boundaries) + 1
        return layer.num_bins
    if isinstance(layer, (Hashing, HashedCrossing)):
        return layer.num_bins
    return None


def _as_tensor(value):
    if isinstance(value, Tensor) or hasattr(value, "_keras_history"):
        return value
    return convert_to_tensor(value)


class FeatureSpace(Layer):
    """Preprocesses and encodes a dict of structured features in one object.

    Args:
      features: dict of feature name to a type name (``"float"``,
        ``"float_normalized"``, ``"float_rescaled"``, ``"float_discretized"``,
        ``"integer_categorical"``, ``"string_categorical"``, ``"integer_hashed"``,
        ``"string_hashed"``) or a ``Feature`` from the class methods below.
      output_mode: ``"concat"`` (one float vector per sample) or ``"dict"``.
      crosses: list of ``FeatureSpace.cross(...)`` or tuples of feature names.
      crossing_dim: hash bins of crosses given as tuples. Defaults to 32.
      hashing_dim: hash bins of ``"*_hashed"`` features given by name. Defaults to 32.
      num_discretization_bins: bins of ``"float_discretized"`` given by name.
      name: the layer's name.

    Example:
      ```python
      fs = FeatureSpace({"age": "float_normalized", "city": "string_categorical"},
                        crosses=[("age", "city")], output_mode="concat")
      fs.adapt(dataset_of_dicts)
      vectors = fs({"age": [31.0, 45.0], "city": ["Oslo", "Rome"]})
      ```
    """

    # -- feature constructors ------------------------------------------------------
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        layer = TFDIdentity(dtype="float32", name=_named(name, "float"))
        return Feature("float32", layer, "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        layer = Rescaling(scale=scale, offset=offset,
                          name=_named(name, "float_rescaled"))
        return Feature("float32", layer, "float")

    @classmethod
    def float_normalized(cls, name=None):
        layer = Normalization(axis=-1, name=_named(name, "float_normalized"))
        return Feature("float32", layer, "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot",
                          name=None):
        layer = Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                               name=_named(name, "float_discretized"))
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1,
                            output_mode="one_hot", name=None):
        layer = IntegerLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                              name=_named(name, "integer_categorical"))
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1,
                           output_mode="one_hot", name=None):
        layer = StringLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                             name=_named(name, "string_categorical"))
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        layer = Hashing(num_bins=num_bins, name=_named(name, "string_hashed"))
        return Feature("string", layer, output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        layer = Hashing(num_bins=num_bins, name=_named(name, "integer_hashed"))
        return Feature("int32", layer, output_mode)

    # -- construction ----------------------------------------------------------------
    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32,
                 hashing_dim=32, num_discretization_bins=32, name=None):
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty. "
                             f"Received: features={features!r}")
        _check_mode(output_mode, ("dict", "concat"))
        self.output_mode = output_mode
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {key: self._standardize_feature(key, value)
                         for key, value in features.items()}
        self.crosses = [self._standardize_cross(c, features) for c in crosses or []]
        self.crosses_by_name = {c.name: c for c in self.crosses}
        self.inputs = {key: Input(shape=(1,), dtype=f.dtype, name=key)
                       for key, f in self.features.items()}
        self.preprocessors = {key: f.preprocessor for key, f in self.features.items()}
        self.crossers = {c.name: HashedCrossing(c.crossing_dim, name=c.name)
                         for c in self.crosses}
        self.one_hot_encoders = {}
        self.concat = None
        self.encoded_features = None
        self._is_adapted = False

    def _standardize_feature(self, key, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return Feature.from_config(feature.get("config", feature))
        makers = {
            "float": lambda: self.float(name=key),
            "float_normalized": lambda: self.float_normalized(name=key),
            "float_rescaled": lambda: self.float_rescaled(name=key),
            "float_discretized": lambda: self.float_discretized(
                self.num_discretization_bins, name=key),
            "integer_categorical": lambda: self.integer_categorical(name=key),
            "string_categorical": lambda: self.string_categorical(name=key),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=key),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=key),
        }
        if not isinstance(feature, str) or feature not in makers:
            raise ValueError(f"Invalid feature type: {feature!r} (feature {key!r}). "
                             "Expected a FeatureSpace feature or one of "
                             f"{list(makers)}.")
        return makers[feature]()

    def _standardize_cross(self, cross, features):
        if isinstance(cross, dict):
            cross = Cross.from_config(cross.get("config", cross))
        if isinstance(cross, Cross):
            return cross
        if not self.crossing_dim:
            raise ValueError("When specifying `crosses`, the argument `crossing_dim` "
                             "(dimensionality of the crossing space) should be "
                             f"specified as well. Received: crossing_dim="
                             f"{self.crossing_dim!r}")
        unknown = [key for key in cross if key not in features]
        if unknown:
            raise ValueError("All features referenced in the `crosses` argument should "
                             "be present in the `features` dict. Received unknown "
                             f"features: {unknown} in cross {cross!r}")
        return Cross(cross, crossing_dim=self.crossing_dim)

    # -- adapt -------------------------------------------------------------------------
    def _adaptable(self):
        names = []
        for key, layer in self.preprocessors.items():
            if isinstance(layer, Normalization) and layer.input_mean is not None:
                continue   # mean and variance were given
            if isinstance(layer, Discretization) and layer.num_bins is None:
                continue   # the boundaries were given
            if isinstance(layer, TextVectorization) and \
                    getattr(layer, "_has_input_vocabulary", False):
                continue
            if hasattr(layer, "adapt"):
                names.append(key)
        return names

    def adapt(self, dataset):
        """Fits every adaptable preprocessor on its feature of ``dataset``.

        Args:
          dataset: a ``tf.data.Dataset`` of feature dicts (batched or not) or a dict
            of arrays/lists.
        """
        from dlframe.data.dataset import Dataset
        if isinstance(dataset, dict):
            dataset = Dataset.from_tensor_slices(dataset)
        if not isinstance(dataset, Dataset):
            raise ValueError(  # noqa: TRY004 - TF's error type
                "`adapt()` can only be called on a tf.data.Dataset or a dict of "
                f"arrays/lists. Received instead: {dataset!r} (of type "
                f"{type(dataset)})")
        for key in self._adaptable():
            column = dataset.map(lambda x, key=key: x[key])
            rank = len(next(iter(column)).shape)
            if rank == 0:
                column = column.batch(32)
            if rank <= 1:   # a column of samples: one value per row
                column = column.map(lambda x: _array.expand_dims(x, -1))
            self.preprocessors[key].adapt(column)
        self._is_adapted = True
        self.get_encoded_features()

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._adaptable():
                raise ValueError("You need to call `.adapt(dataset)` on the "
                                 "FeatureSpace before you can start using it.")
            self._is_adapted = True

    # -- the encoding, on Keras inputs or on tensors -----------------------------------
    def get_inputs(self):
        """Dict of the ``keras.Input`` of each feature (shape ``(None, 1)``)."""
        self.get_encoded_features()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features (a KerasTensor, or a dict of them) computed from
        ``get_inputs()``: a functional model can start or end at them."""
        self._check_if_adapted()
        if self.encoded_features is None:
            self.encoded_features = self._encode(self.inputs)
            self.built = True
        return self.encoded_features

    def _encode(self, data):
        processed = {key: self.preprocessors[key](data[key]) for key in self.features}
        for cross in self.crosses:
            processed[cross.name] = self.crossers[cross.name](
                [processed[key] for key in cross.feature_names])
        order = sorted(self.features) + sorted(self.crosses_by_name)
        encoded = {}
        for key in order:
            value = processed[key]
            spec = self.features.get(key) or self.crosses_by_name[key]
            if spec.output_mode == "one_hot":
                value = self._one_hot_encoder(key, value)(value)
            elif self.output_mode == "concat" and not value.dtype.is_floating:
                raise ValueError(
                    f"Cannot concatenate features because feature {key!r} has not "
                    f"been encoded (it has dtype {value.dtype.name}). Consider using "
                    "`output_mode='dict'`.")
            encoded[key] = value
        if self.output_mode == "dict":
            return encoded
        if self.concat is None:
            self.concat = TFDConcat(axis=-1)
        return self.concat([encoded[key] for key in order])

    def _one_hot_encoder(self, key, value):
        encoder = self.one_hot_encoders.get(key)
        if encoder is not None:
            return encoder
        if not value.dtype.is_integer:
            raise ValueError(f"Feature {key!r} has `output_mode='one_hot'`. Thus its "
                             "preprocessor should return an integer dtype. Instead it "
                             f"returns a {value.dtype.name} dtype.")
        layer = self.preprocessors.get(key) or self.crossers.get(key)
        depth = _cardinality(layer)
        if depth is None:
            raise ValueError(f"Feature {key!r} has `output_mode='one_hot'`. However it "
                             "isn't a standard feature and the dimensionality of its "
                             "output space is not known, thus it cannot be one-hot "
                             "encoded. Try using `output_mode='int'`.")
        encoder = CategoryEncoding(num_tokens=depth, output_mode="multi_hot")
        self.one_hot_encoders[key] = encoder
        return encoder

    def __call__(self, data):
        """Encodes a dict of feature values: a batch (``(batch,)`` or ``(batch, 1)``
        per feature) gives ``(batch, dim)``; one sample of scalars gives ``(dim,)``."""
        self.get_encoded_features()
        if not isinstance(data, dict):
            raise ValueError(  # noqa: TRY004 - TF's error type
                "A FeatureSpace can only be called with a dict. Received: "
                f"data={data!r} (of type {type(data)})")
        unknown = [key for key in self.features if key not in data]
        if unknown:
            raise MissingFeatureError(f"Missing features {unknown} in the data passed "
                                      f"to the FeatureSpace; received keys "
                                      f"{sorted(data)}.")
        columns, single = {}, False
        for key in self.features:
            x = _as_tensor(data[key])
            if len(x.shape) == 0:
                x, single = _array.reshape(x, [1, 1]), True
            elif len(x.shape) == 1:
                x = _array.expand_dims(x, -1)
            columns[key] = x
        out = self._encode(columns)
        if not single:
            return out
        if self.output_mode == "concat":
            return _array.squeeze(out, axis=0)
        return {key: _array.squeeze(v, axis=0) if len(v.shape) == 2 else v
                for key, v in out.items()}

    def call(self, inputs):
        return self(inputs)

    # -- config and saving ------------------------------------------------------------
    def get_config(self):
        return {"features": {key: generic_utils.serialize_keras_object(f)
                             for key, f in self.features.items()},
                "output_mode": self.output_mode,
                "crosses": [generic_utils.serialize_keras_object(c)
                            for c in self.crosses],
                "crossing_dim": self.crossing_dim,
                "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        return {key: f.preprocessor.get_build_config() or {}
                for key, f in self.features.items()}

    def build_from_config(self, config):
        """Rebuilds the preprocessors of a loaded FeatureSpace (their learned state
        comes with their configs and weights): it counts as adapted."""
        for key, build_config in (config or {}).items():
            layer = self.preprocessors.get(key)
            if layer is not None and not layer.built and build_config:
                layer.build_from_config(build_config)
        self._is_adapted = True   # encoders are made on first use, once the
        # loaded vocabularies (assets, read after this) give their sizes

    def save(self, filepath):
        """Writes the FeatureSpace to a ``.keras`` file; ``keras.models.load_model``
        reads it back.

        Args:
          filepath: path of the ``.keras`` file.
        """
        from dlframe.keras.saving import keras_archive
        if not str(filepath).endswith(".keras"):
            raise ValueError("The filepath of `FeatureSpace.save()` should end in "
                             f"'.keras'. Received: filepath={filepath!r}")
        self.get_encoded_features()
        keras_archive.save(self, filepath)


# What saved configs name (``keras.models.load_model`` looks these up).
SERIALIZABLE = {cls.__name__: cls
                for cls in (FeatureSpace, Feature, Cross, TFDIdentity, TFDConcat)}
