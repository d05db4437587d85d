"""``dlframe.io``: TFRecord files, tf.train.Example parsing and raw byte codecs."""

from dlframe.io import gfile  # noqa: F401 - tf.io.gfile
from dlframe.io.parsing import (
                                FixedLenFeature,
                                FixedLenSequenceFeature,
                                VarLenFeature,
                                parse_example,
                                parse_single_example,
)
from dlframe.io.raw import decode_raw, parse_tensor, serialize_tensor
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.io.tfrecord import TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["FixedLenFeature", "FixedLenSequenceFeature", "SparseTensor", "TFRecordOptions",
           "TFRecordWriter", "VarLenFeature", "decode_raw", "parse_example",
           "parse_single_example", "parse_tensor", "serialize_tensor", "tf_record_iterator"]
