"""Protocol-buffer classes for tf.train.Example and TensorProto, built at runtime.

The message layouts (field numbers and types) follow TensorFlow's public .proto files so
serialized bytes are interchangeable with TensorFlow's. They are declared here with
``descriptor_pb2`` in a private descriptor pool, so no ``protoc`` step is needed and a
TensorFlow installed in the same process (which registers the same full names in the
default pool) does not clash.
"""

import threading

_lock = threading.Lock()
_classes = None

_OPT, _REP = 1, 3  # FieldDescriptorProto labels: optional, repeated
_T = {"double": 1, "float": 2, "int64": 3, "uint64": 4, "int32": 5, "bool": 8,
      "string": 9, "message": 11, "bytes": 12, "uint32": 13}


def _field(msg, name, number, kind, label=_OPT, type_name=None, oneof=None, packed=None):
    f = msg.field.add(name=name, number=number, type=_T[kind], label=label)
    if type_name:
        f.type_name = type_name
    if oneof is not None:
        f.oneof_index = oneof
    if packed is not None:
        f.options.packed = packed
    return f


def _map_entry(msg, entry_name, value_type):
    entry = msg.nested_type.add(name=entry_name)
    entry.options.map_entry = True
    _field(entry, "key", 1, "string")
    _field(entry, "value", 2, "message", type_name=value_type)


def _example_file(descriptor_pb2):
    fd = descriptor_pb2.FileDescriptorProto(name="dlframe/tensorflow_example.proto",
                                            package="tensorflow", syntax="proto3")
    m = fd.message_type.add(name="BytesList")
    _field(m, "value", 1, "bytes", _REP)
    m = fd.message_type.add(name="FloatList")
    _field(m, "value", 1, "float", _REP, packed=True)
    m = fd.message_type.add(name="Int64List")
    _field(m, "value", 1, "int64", _REP, packed=True)
    m = fd.message_type.add(name="Feature")
    m.oneof_decl.add(name="kind")
    _field(m, "bytes_list", 1, "message", type_name=".tensorflow.BytesList", oneof=0)
    _field(m, "float_list", 2, "message", type_name=".tensorflow.FloatList", oneof=0)
    _field(m, "int64_list", 3, "message", type_name=".tensorflow.Int64List", oneof=0)
    m = fd.message_type.add(name="Features")
    _map_entry(m, "FeatureEntry", ".tensorflow.Feature")
    _field(m, "feature", 1, "message", _REP, type_name=".tensorflow.Features.FeatureEntry")
    m = fd.message_type.add(name="FeatureList")
    _field(m, "feature", 1, "message", _REP, type_name=".tensorflow.Feature")
    m = fd.message_type.add(name="FeatureLists")
    _map_entry(m, "FeatureListEntry", ".tensorflow.FeatureList")
    _field(m, "feature_list", 1, "message", _REP,
           type_name=".tensorflow.FeatureLists.FeatureListEntry")
    m = fd.message_type.add(name="Example")
    _field(m, "features", 1, "message", type_name=".tensorflow.Features")
    m = fd.message_type.add(name="SequenceExample")
    _field(m, "context", 1, "message", type_name=".tensorflow.Features")
    _field(m, "feature_lists", 2, "message", type_name=".tensorflow.FeatureLists")
    return fd


def _tensor_file(descriptor_pb2):
    fd = descriptor_pb2.FileDescriptorProto(name="dlframe/tensorflow_tensor.proto",
                                            package="tensorflow", syntax="proto3")
    m = fd.message_type.add(name="TensorShapeProto")
    dim = m.nested_type.add(name="Dim")
    _field(dim, "size", 1, "int64")
    _field(dim, "name", 2, "string")
    _field(m, "dim", 2, "message", _REP, type_name=".tensorflow.TensorShapeProto.Dim")
    _field(m, "unknown_rank", 3, "bool")
    m = fd.message_type.add(name="TensorProto")
    _field(m, "dtype", 1, "int32")  # the DataType enum, as its wire-compatible varint
    _field(m, "tensor_shape", 2, "message", type_name=".tensorflow.TensorShapeProto")
    _field(m, "version_number", 3, "int32")
    _field(m, "tensor_content", 4, "bytes")
    _field(m, "float_val", 5, "float", _REP, packed=True)
    _field(m, "double_val", 6, "double", _REP, packed=True)
    _field(m, "int_val", 7, "int32", _REP, packed=True)
    _field(m, "string_val", 8, "bytes", _REP)
    _field(m, "scomplex_val", 9, "float", _REP, packed=True)
    _field(m, "int64_val", 10, "int64", _REP, packed=True)
    _field(m, "bool_val", 11, "bool", _REP, packed=True)
    _field(m, "dcomplex_val", 12, "double", _REP, packed=True)
    _field(m, "half_val", 13, "int32", _REP, packed=True)
    _field(m, "uint32_val", 16, "uint32", _REP, packed=True)
    _field(m, "uint64_val", 17, "uint64", _REP, packed=True)
    return fd


def classes():
    """Dict of message name -> generated message class (built once, thread-safe)."""
    global _classes
    if _classes is not None:
        return _classes
    with _lock:
        if _classes is None:
            try:
                from google.protobuf import (
                    descriptor_pb2,
                    descriptor_pool,
                    message_factory,
                )
            except ImportError as exc:  # pragma: no cover - environment dependent
                raise ImportError("tf.train.Example support needs the `protobuf` package: "
                                  "pip install 'dlframe[tfrecord]'") from exc
            pool = descriptor_pool.DescriptorPool()
            out = {}
            for fd in (_example_file(descriptor_pb2), _tensor_file(descriptor_pb2)):
                pool.Add(fd)
                for m in fd.message_type:
                    desc = pool.FindMessageTypeByName(f"tensorflow.{m.name}")
                    out[m.name] = _message_class(message_factory, desc)
            _classes = out
    return _classes


def _message_class(message_factory, desc):
    get = getattr(message_factory, "GetMessageClass", None)
    if get is not None:
        return get(desc)
    return message_factory.MessageFactory(desc.file.pool).GetPrototype(desc)  # old protobuf
