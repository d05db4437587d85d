"""``dlframe.io``: TFRecord files, tf.train.Example parsing, raw byte codecs, whole-file
reads and writes, image codecs and CSV records."""

from dlframe.io import gfile  # noqa: F401 - tf.io.gfile
from dlframe.io.codecs import (
                                  decode_base64,
                                  decode_compressed,
                                  decode_json_example,
                                  deserialize_many_sparse,
                                  encode_base64,
                                  match_filenames_once,
                                  serialize_many_sparse,
                                  serialize_sparse,
                                  write_graph,
)
from dlframe.io.image_ops import (
                                  decode_and_crop_jpeg,
                                  decode_bmp,
                                  decode_csv,
                                  decode_gif,
                                  decode_image,
                                  decode_jpeg,
                                  decode_png,
                                  encode_jpeg,
                                  encode_png,
                                  extract_jpeg_shape,
                                  is_jpeg,
                                  matching_files,
                                  read_file,
                                  write_file,
)
from dlframe.io.parsing import (
                                  FixedLenFeature,
                                  FixedLenSequenceFeature,
                                  RaggedFeature,
                                  SparseFeature,
                                  VarLenFeature,
                                  parse_example,
                                  parse_single_example,
)
from dlframe.io.parsing_sequence import (
                                  parse_sequence_example,
                                  parse_single_sequence_example,
)
from dlframe.io.raw import decode_raw, parse_tensor, serialize_tensor
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.io.tfrecord import TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = [
                                  "FixedLenFeature",
                                  "FixedLenSequenceFeature",
                                  "RaggedFeature",
                                  "SparseFeature",
                                  "SparseTensor",
                                  "TFRecordOptions",
                                  "TFRecordWriter",
                                  "VarLenFeature",
                                  "decode_and_crop_jpeg",
                                  "decode_base64",
                                  "decode_bmp",
                                  "decode_compressed",
                                  "decode_csv",
                                  "decode_gif",
                                  "decode_image",
                                  "decode_jpeg",
                                  "decode_json_example",
                                  "decode_png",
                                  "decode_raw",
                                  "deserialize_many_sparse",
                                  "encode_base64",
                                  "encode_jpeg",
                                  "encode_png",
                                  "extract_jpeg_shape",
                                  "is_jpeg",
                                  "match_filenames_once",
                                  "matching_files",
                                  "parse_example",
                                  "parse_sequence_example",
                                  "parse_single_example",
                                  "parse_single_sequence_example",
                                  "parse_tensor",
                                  "read_file",
                                  "serialize_many_sparse",
                                  "serialize_sparse",
                                  "serialize_tensor",
                                  "tf_record_iterator",
                                  "write_file",
                                  "write_graph",
]
