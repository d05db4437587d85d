"""``dlframe.feature_column``: TF's ``tf.feature_column`` API.

Feature columns describe how raw features (a dict of tensors, e.g. from
``Dataset.from_tensor_slices((dict(df), labels))``) become a dense model input;
``tf.keras.layers.DenseFeatures(columns)`` applies them. Hashing (hash buckets, OOV
buckets, crosses) reproduces TF's FarmHash-based ids exactly.
"""

from dlframe.feature_column.base import (
    CategoricalColumn,
    DenseColumn,
    FeatureColumn,
    make_parse_example_spec,
)
from dlframe.feature_column.categorical import (
    categorical_column_with_hash_bucket,
    categorical_column_with_identity,
    categorical_column_with_vocabulary_file,
    categorical_column_with_vocabulary_list,
    weighted_categorical_column,
)
from dlframe.feature_column.crossed import crossed_column
from dlframe.feature_column.dense import (
    bucketized_column,
    embedding_column,
    indicator_column,
    numeric_column,
    shared_embeddings,
)

__all__ = [
    "CategoricalColumn",
    "DenseColumn",
    "FeatureColumn",
    "bucketized_column",
    "categorical_column_with_hash_bucket",
    "categorical_column_with_identity",
    "categorical_column_with_vocabulary_file",
    "categorical_column_with_vocabulary_list",
    "crossed_column",
    "embedding_column",
    "indicator_column",
    "make_parse_example_spec",
    "numeric_column",
    "shared_embeddings",
    "weighted_categorical_column",
]
