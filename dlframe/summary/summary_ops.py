"""``tf.summary.scalar/histogram/text/image/write``: TensorFlow 2's event format.

Every summary is written as TF2 writes it: one tensor value per tag with the plugin's
metadata (``scalars``: a float32 scalar; ``histograms``: a float64 ``[k, 3]`` tensor of
(left edge, right edge, count); ``text``: a string tensor; ``images``: a string vector of
width, height and one PNG per image), so TensorBoard and ``EventAccumulator.Tensors``
read them like TensorFlow's. Tags carry the current name scope.

The write is an effectful primitive: inside ``dlframe.function`` it runs each time the
compiled function runs, with the step's value at that time (a step Variable is an
input). The default writer and ``record_if`` are read when the op is called (traced);
a ``record_if`` condition that is a tensor of the traced graph (computed from a
Variable, as Keras's TensorBoard callback does) is checked each time the graph runs.
"""

import struct
import zlib

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import current_scope
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _reduction
from dlframe.ops import segment as _segment
from dlframe.ops.audio_ops import _encode as encode_wav_bytes
from dlframe.summary import writer as _writer

# ------------------------------------------------------------------ protos
_DTYPES = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
           "int64": 9, "bool": 10, "uint16": 17, "float16": 19, "uint32": 22,
           "uint64": 23}


def _pb():
    try:
        from tensorboardX.proto import summary_pb2, tensor_pb2, tensor_shape_pb2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("tf.summary needs tensorboardX: "
                          "pip install 'dlframe[tensorboard]'") from e
    return summary_pb2, tensor_pb2, tensor_shape_pb2


def _tensor_proto(host):
    """A TensorProto of a host array (strings as DT_STRING, numbers little-endian)."""
    _, tensor_pb2, shape_pb2 = _pb()
    shape = shape_pb2.TensorShapeProto(
        dim=[shape_pb2.TensorShapeProto.Dim(size=int(n)) for n in host.shape])
    if host.dtype.kind in "OSU":
        values = [v if isinstance(v, bytes) else str(v).encode("utf-8")
                  for v in host.reshape(-1).tolist()]
        return tensor_pb2.TensorProto(dtype=7, tensor_shape=shape, string_val=values)
    name = host.dtype.name
    if name not in _DTYPES:
        raise TypeError(f"tf.summary cannot write a tensor of dtype {name}")
    little = host.astype(host.dtype.newbyteorder("<"), copy=False)
    return tensor_pb2.TensorProto(dtype=_DTYPES[name], tensor_shape=shape,
                                  tensor_content=little.tobytes())


def _summary(tag, tensor_proto, plugin, description, metadata=None):
    summary_pb2, _, _ = _pb()
    if metadata is None:
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin,
                                                               content=b""),
            summary_description=description or "")
    elif isinstance(metadata, bytes):
        metadata = summary_pb2.SummaryMetadata.FromString(metadata)
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor_proto, metadata=metadata)
    return summary_pb2.Summary(value=[value])


# ------------------------------------------------------------------ PNG
def _chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(image):
    """PNG bytes of a host uint8 array [height, width, channels] (1, 3 or 4 channels)."""
    height, width, channels = image.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = image.astype("uint8", copy=False).reshape(height, width * channels)
    rows = b"".join(b"\x00" + raw[r].tobytes() for r in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows, 6)) + _chunk(b"IEND", b""))


# ------------------------------------------------------------------ the write primitive
@primitive("WriteSummary", effects=True)
def write_summary_p(d, data, step, *condition, writer, tag, kind, plugin, description,
                    metadata, sample_rate=None):
    if condition and not bool(d.to_numpy(condition[0])):
        return d.xp.asarray(False)   # record_if's graph condition is false at this run
    host = d.to_numpy(data)
    if kind == "audio":
        proto = _audio_proto(host, sample_rate)
    elif kind == "image":
        _, tensor_pb2, shape_pb2 = _pb()
        pngs = [encode_png(host[i]) for i in range(host.shape[0])]
        height, width = host.shape[1], host.shape[2]
        proto = tensor_pb2.TensorProto(
            dtype=7, tensor_shape=shape_pb2.TensorShapeProto(
                dim=[shape_pb2.TensorShapeProto.Dim(size=2 + len(pngs))]),
            string_val=[str(width).encode(), str(height).encode()] + pngs)
    else:
        proto = _tensor_proto(host)
    ok = writer._write(_summary(tag, proto, plugin, description, metadata),
                       int(d.to_numpy(step)))
    return d.xp.asarray(ok)


write_summary_p.dry_run = lambda d, *arrays, **attrs: d.xp.asarray(True)


def _tag(name):
    scope = current_scope()
    return f"{scope}/{name}" if scope else name


def _step_tensor(step, device):
    if step is None:
        step = _writer.get_step()
    if step is None:
        raise ValueError("No step set. Please specify one either through the `step` "
                         "argument or through tf.summary.experimental.set_step()")
    if isinstance(step, Tensor) and step._device is device:
        return step if step.dtype == _dt.int64 else _logic.cast(step, _dt.int64)
    if isinstance(step, Tensor):
        step = int(step.numpy())
    return convert_to_tensor(int(step), dtype=_dt.int64, device=device)


def _active_writer():
    """(writer, condition) a summary op writes with, or None when it writes nothing.

    ``condition`` is None (record) or a boolean tensor of the graph being traced,
    checked each time the graph runs (``record_if`` of a Variable-based condition).
    """
    w = _writer.STATE.writer
    if w is None or isinstance(w, _writer._NoopWriter):
        return None
    condition = _writer.recording_condition()
    if condition is False:
        return None
    return w, (None if condition is True else condition)


def _false():
    return convert_to_tensor(False)


def _emit(target, name, data, step, kind, plugin, description, metadata=None,
          **extra):
    writer, condition = target
    step = _step_tensor(step, data._device)
    inputs = (data, step)
    if condition is not None:
        inputs += (_logic.cast(_array.reshape(condition, []), _dt.bool),)
    return call(write_summary_p, inputs, {
        "writer": writer, "tag": _tag(name), "kind": kind, "plugin": plugin,
        "description": description, "metadata": metadata, **extra})


# ------------------------------------------------------------------ public ops
def scalar(name, data, step=None, description=None):
    """Writes a scalar summary; returns True on success, False without a default writer.

    Args:
      name: the tag (prefixed by the current name scope).
      data: a real number or scalar tensor (converted to float32).
      step: int64-castable step; defaults to ``tf.summary.experimental.get_step()``.
      description: optional long description.

    Raises:
      ValueError: no ``step`` given and no default step set, or ``data`` not a scalar.
    """
    writer = _active_writer()
    if writer is None:
        return _false()
    t = _logic.cast(convert_to_tensor(data), _dt.float32)
    if t._value.ndim != 0:
        raise ValueError(f"Expected scalar shape for data, saw shape: {tuple(t.shape)}.")
    return _emit(writer, name, t, step, "scalar", "scalars", description)


def _buckets(data, bucket_count):
    """[k, 3] float64 (left edge, right edge, count), TensorBoard's bucketing."""
    flat = _logic.cast(_array.reshape(data, [-1]), _dt.float64)
    if bucket_count <= 0:
        return _creation.zeros((0, 3), dtype=_dt.float64)
    if flat._value.size == 0:
        return _creation.zeros((bucket_count, 3), dtype=_dt.float64)
    low, high = _reduction.reduce_min(flat), _reduction.reduce_max(flat)
    spread = high - low
    multiple = _logic.greater(spread, 0.0)
    width = _logic.where(multiple, spread / float(bucket_count), 1.0)
    index = _logic.cast(_math.floor((flat - low) / width), _dt.int32)
    index = _math.minimum(index, bucket_count - 1)
    index = _logic.where(multiple, index, bucket_count - 1)  # one value: last bucket
    counts = _segment.unsorted_segment_sum(_logic.ones_like(flat), index, bucket_count)
    edges = _creation.linspace(low, high, bucket_count + 1)
    edges = _array.concat([edges[:-1], _array.reshape(high, [1])], 0)
    left = _logic.where(multiple, edges[:-1], _array.fill([bucket_count], high))
    return _array.stack([left, edges[1:], counts], axis=1)


def histogram(name, data, step=None, buckets=None, description=None):
    """Writes a histogram of ``data`` (any shape) in ``buckets`` (default 30) buckets."""
    writer = _active_writer()
    if writer is None:
        return _false()
    t = convert_to_tensor(data)
    return _emit(writer, name, _buckets(t, 30 if buckets is None else int(buckets)), step,
                 "histogram", "histograms", description)


def text(name, data, step=None, description=None):
    """Writes a string (or string tensor) summary, rendered as Markdown by TensorBoard."""
    writer = _active_writer()
    if writer is None:
        return _false()
    t = data if isinstance(data, Tensor) else convert_to_tensor(data, dtype=_dt.string)
    if t.dtype != _dt.string:
        raise TypeError(f"tf.summary.text expects string data, got dtype {t.dtype.name}")
    return _emit(writer, name, t, step, "text", "text", description)


def _to_uint8(t):
    if t.dtype == _dt.uint8:
        return t
    if t.dtype.is_floating:
        scaled = _math.multiply(_logic.cast(t, _dt.float32), 255.5)
        clipped = _math.minimum(_math.maximum(scaled, 0.0), 255.0)
        return _logic.cast(clipped, _dt.uint8)
    if t.dtype.is_integer:
        return _logic.cast(_math.minimum(_math.maximum(t, 0), 255), _dt.uint8)
    raise TypeError(f"tf.summary.image expects float or integer images, got dtype "
                    f"{t.dtype.name}")


def image(name, data, step=None, max_outputs=3, description=None):
    """Writes up to ``max_outputs`` images of a ``[k, height, width, channels]`` batch.

    Floats are taken in [0, 1] and scaled to uint8 as ``tf.image.convert_image_dtype``
    (saturating); uint8 is written as is; channels must be 1, 3 or 4.
    """
    writer = _active_writer()
    if writer is None:
        return _false()
    t = convert_to_tensor(data)
    if t._value.ndim != 4:
        raise ValueError(f"Tensor  must have rank 4.  Received rank {t._value.ndim}, "
                         f"shape {tuple(t.shape)}")
    if t.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"Images must have 1, 3 or 4 channels; received shape "
                         f"{tuple(t.shape)}")
    images = _to_uint8(t[:max(int(max_outputs), 0)])
    return _emit(writer, name, images, step, "image", "images", description)


# ------------------------------------------------------------------ audio
def _audio_proto(host, sample_rate):
    """A ``[k, 2]`` string tensor of (WAV bytes, empty label) rows, as TF2 writes."""
    _, tensor_pb2, shape_pb2 = _pb()
    values = []
    for clip in host:
        values += [encode_wav_bytes(clip.astype("float32"), sample_rate), b""]
    dims = [shape_pb2.TensorShapeProto.Dim(size=len(host)),
            shape_pb2.TensorShapeProto.Dim(size=2)]
    return tensor_pb2.TensorProto(dtype=7, string_val=values,
                                  tensor_shape=shape_pb2.TensorShapeProto(dim=dims))


_AUDIO_PLUGIN_CONTENT = b"\x10\x0b"   # AudioPluginData(version=0, encoding=WAV)


def audio(name, data, sample_rate, step=None, max_outputs=3, encoding=None,
          description=None):
    """Writes up to ``max_outputs`` audio clips as WAV.

    Args:
      name: the summary's name.
      data: float ``[k, frames, channels]`` samples in [-1, 1].
      sample_rate: samples per second (a Python or scalar int).
      step: the step (default: ``tf.summary.experimental.get_step()``).
      max_outputs: the most clips written.
      encoding: "wav" or None (WAV is the only encoding, as in TF).
      description: optional Markdown description.

    Returns:
      True on success, False when no default writer is recording.
    """
    if encoding not in (None, "wav"):
        raise ValueError(f"Unknown encoding: {encoding!r}")
    writer = _active_writer()
    if writer is None:
        return _false()
    t = convert_to_tensor(data)
    if t.shape.rank != 3:
        raise ValueError(f"Tensor  must have rank 3.  Received rank {t.shape.rank}, "
                         f"shape {tuple(t.shape)}")
    if not t.dtype.is_floating:
        raise TypeError(f"tf.summary.audio expects float samples, got {t.dtype.name}")
    rate = int(sample_rate.numpy() if isinstance(sample_rate, Tensor) else sample_rate)
    if rate <= 0:
        raise ValueError(f"`sample_rate` must be positive, got {sample_rate!r}")
    summary_pb2, _, _ = _pb()
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name="audio", content=_AUDIO_PLUGIN_CONTENT),
        summary_description=description or "")
    clips = t[:max(int(max_outputs), 0)]
    return _emit(writer, name, clips, step, "audio", "audio", description,
                 metadata.SerializeToString(), sample_rate=rate)


def write(tag, tensor, step=None, metadata=None, name=None):
    """Writes ``tensor`` under ``tag`` with ``metadata`` (a SummaryMetadata proto or its
    serialized bytes); returns True on success, False without a default writer."""
    writer = _active_writer()
    if writer is None:
        return _false()
    if callable(tensor) and not isinstance(tensor, Tensor):
        tensor = tensor()
    t = convert_to_tensor(tensor)
    if metadata is not None and not isinstance(metadata, bytes):
        metadata = metadata.SerializeToString()
    return _emit(writer, tag, t, step, "tensor", "", None, metadata or b"")


def write_raw_pb(tensor, step=None, name=None):
    raise NotImplementedError("tf.summary.experimental.write_raw_pb is not supported.")


__all__ = ["audio", "histogram", "image", "scalar", "text", "write"]
