"""TF1's names and signatures of ops that TF2 renamed (``tf.compat.v1.*``).

Each is a thin adapter onto the TF2 op: renamed functions (``random_normal``,
``arg_max``, ``to_float``), TF1 argument names (``keep_dims``,
``reduction_indices``, ``dimension``, ``squeeze_dims``), TF1 result types
(``string_split`` gives a SparseTensor) and TF1's function forms of Variable
methods (``assign``, ``scatter_update``).
"""

import sys

import dlframe as _tf
from dlframe.core import dtypes as _dt

# ---------------------------------------------------------------- renamed ops
random_normal = _tf.random.normal
random_uniform = _tf.random.uniform
truncated_normal = _tf.random.truncated_normal
random_shuffle = _tf.random.shuffle
random_crop = _tf.image.random_crop
log = _tf.math.log
FixedLenFeature = _tf.io.FixedLenFeature
FixedLenSequenceFeature = _tf.io.FixedLenSequenceFeature
VarLenFeature = _tf.io.VarLenFeature
SparseFeature = _tf.io.SparseFeature
floordiv = _tf.math.floordiv


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """TF1's ``multinomial``: ``tf.random.categorical`` (int64 samples)."""
    return _tf.random.categorical(logits, num_samples, dtype=output_dtype, seed=seed,
                                  name=name)


def _to(dtype, default_name, function_name):
    def convert(x, name=default_name):
        return _tf.cast(x, dtype, name=name)
    convert.__name__ = function_name
    convert.__doc__ = f"``tf.cast(x, tf.{dtype.name})`` (TF1 name)."
    return convert


to_float = _to(_dt.float32, "ToFloat", "to_float")
to_double = _to(_dt.float64, "ToDouble", "to_double")
to_int32 = _to(_dt.int32, "ToInt32", "to_int32")
to_int64 = _to(_dt.int64, "ToInt64", "to_int64")
to_bfloat16 = _to(_dt.bfloat16, "ToBFloat16", "to_bfloat16")


def div(x, y, name=None):
    """Python 2 division: floor division for integers, true division otherwise."""
    x = _tf.convert_to_tensor(x)
    y = _tf.convert_to_tensor(y, dtype=x.dtype)
    if x.dtype.is_integer:
        return _tf.math.floordiv(x, y, name=name)
    return _tf.math.divide(x, y, name=name)


# ---------------------------------------------------------------- TF1 argument names
def _one_of(new, new_name, old, old_name):
    """The value of a renamed argument; both given is TF's ValueError."""
    if old is not None:
        if new is not None:
            raise ValueError(f"Cannot specify both '{old_name}' and '{new_name}'.")
        return old
    return new


def _reduction(op):
    def reduce(input_tensor, axis=None, keepdims=None, name=None,
               reduction_indices=None, keep_dims=None):
        axis = _one_of(axis, "axis", reduction_indices, "reduction_indices")
        keepdims = _one_of(keepdims, "keepdims", keep_dims, "keep_dims")
        return op(input_tensor, axis=axis, keepdims=bool(keepdims), name=name)
    reduce.__name__ = op.__name__
    reduce.__doc__ = (f"TF1's ``{op.__name__}``: also takes ``reduction_indices`` "
                      "(for ``axis``) and ``keep_dims`` (for ``keepdims``).")
    return reduce


reduce_sum = _reduction(_tf.math.reduce_sum)
reduce_mean = _reduction(_tf.math.reduce_mean)
reduce_max = _reduction(_tf.math.reduce_max)
reduce_min = _reduction(_tf.math.reduce_min)
reduce_prod = _reduction(_tf.math.reduce_prod)
reduce_all = _reduction(_tf.math.reduce_all)
reduce_any = _reduction(_tf.math.reduce_any)
reduce_logsumexp = _reduction(_tf.math.reduce_logsumexp)


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=_dt.int64,
                  name=None, reduction_indices=None, keep_dims=None, input=None):
    """TF1's ``count_nonzero`` (``input_tensor``/``input``, ``keep_dims``,
    ``reduction_indices``)."""
    input_tensor = _one_of(input_tensor, "input_tensor", input, "input")
    axis = _one_of(axis, "axis", reduction_indices, "reduction_indices")
    keepdims = _one_of(keepdims, "keepdims", keep_dims, "keep_dims")
    return _tf.math.count_nonzero(input_tensor, axis=axis, keepdims=bool(keepdims),
                                  dtype=dtype, name=name)


def _arg(op):
    def arg(input, axis=None, name=None, dimension=None, output_type=_dt.int64):
        axis = _one_of(axis, "axis", dimension, "dimension")
        return op(input, axis=0 if axis is None else axis, output_type=output_type,
                  name=name)
    arg.__name__ = op.__name__
    arg.__doc__ = f"TF1's ``{op.__name__}`` (also takes ``dimension``)."
    return arg


argmax = _arg(_tf.math.argmax)
argmin = _arg(_tf.math.argmin)


def arg_max(input, dimension, output_type=_dt.int64, name=None):
    """TF1's ``arg_max``: ``tf.math.argmax`` over ``dimension``."""
    return _tf.math.argmax(input, axis=dimension, output_type=output_type, name=name)


def arg_min(input, dimension, output_type=_dt.int64, name=None):
    """TF1's ``arg_min``: ``tf.math.argmin`` over ``dimension``."""
    return _tf.math.argmin(input, axis=dimension, output_type=output_type, name=name)


def expand_dims(input, axis=None, name=None, dim=None):
    """TF1's ``expand_dims`` (also takes ``dim``)."""
    axis = _one_of(axis, "axis", dim, "dim")
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return _tf.expand_dims(input, axis, name=name)


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    """TF1's ``squeeze`` (also takes ``squeeze_dims``)."""
    axis = _one_of(axis, "axis", squeeze_dims, "squeeze_dims")
    return _tf.squeeze(input, axis=axis, name=name)


# ---------------------------------------------------------------- sparse and strings
def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0,
                    validate_indices=True, name=None):
    """A dense tensor of ``output_shape`` holding ``sparse_values`` at
    ``sparse_indices`` and ``default_value`` elsewhere (TF1's op).

    Args:
      sparse_indices: int [N, rank], or [N] / a scalar index for rank 1.
      output_shape: 1-D shape of the result.
      sparse_values: [N] values or a scalar used for every index.
      default_value: the value everywhere else.
      validate_indices: whether indices must be sorted and unique.
      name: op name.
    """
    shape = _tf.cast(_tf.reshape(output_shape, [-1]), _dt.int64)
    indices = _tf.cast(_tf.convert_to_tensor(sparse_indices), _dt.int64)
    if indices.shape.rank is not None and indices.shape.rank < 2:
        indices = _tf.reshape(indices, [-1, 1])
    values = _tf.convert_to_tensor(sparse_values)
    if values.shape.rank == 0:
        values = _tf.fill(_tf.shape(indices)[:1], values)
    sparse = _tf.sparse.SparseTensor(indices, values, shape)
    default = _tf.cast(default_value, values.dtype)
    return _tf.sparse.to_dense(sparse, default_value=default,
                               validate_indices=validate_indices, name=name)


def _split_string(text, delimiter, skip_empty):
    if delimiter == b"":
        return [text[i:i + 1] for i in range(len(text))]
    pieces, start = [], 0
    for i in range(len(text)):
        if text[i:i + 1] in delimiter:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p for p in pieces if p] if skip_empty else pieces


def string_split(source, sep=None, skip_empty=True, delimiter=None,
                 result_type="SparseTensor", name=None):
    """TF1's ``string_split``: splits each string of a 1-D ``source`` wherever any
    character of ``delimiter`` occurs (default: space).

    Args:
      source: 1-D string tensor.
      sep, delimiter: the delimiter characters ('' splits into characters).
      skip_empty: drop empty pieces.
      result_type: "SparseTensor" (TF1's result) or "RaggedTensor".
      name: op name.

    Returns:
      A SparseTensor (int64 indices, string values, int64 dense_shape [N, longest])
      or a RaggedTensor.
    """
    delimiter = _one_of(sep, "sep", delimiter, "delimiter")
    delimiter = " " if delimiter is None else delimiter
    if result_type not in ("SparseTensor", "RaggedTensor"):
        raise ValueError("result_type must be 'RaggedTensor' or 'SparseTensor', got "
                         f"{result_type!r}.")
    source = _tf.convert_to_tensor(source)
    if source.shape.rank != 1:
        raise ValueError(f"`source` must be a 1-D string tensor, got shape "
                         f"{source.shape}")
    delimiter = delimiter.encode() if isinstance(delimiter, str) else bytes(delimiter)
    rows = [_split_string(t.encode() if isinstance(t, str) else bytes(t), delimiter,
                          skip_empty) for t in source.numpy().tolist()]
    values = _tf.constant([p for row in rows for p in row], dtype=_dt.string)
    row_ids = [i for i, row in enumerate(rows) for _ in row]
    if result_type == "RaggedTensor":
        return _tf.RaggedTensor.from_value_rowids(
            values, _tf.constant(row_ids, _dt.int64), nrows=len(rows))
    indices = [[i, j] for i, row in enumerate(rows) for j in range(len(row))]
    width = max([len(r) for r in rows], default=0)
    return _tf.sparse.SparseTensor(
        _tf.reshape(_tf.constant(indices, _dt.int64), [-1, 2]), values,
        _tf.constant([len(rows), width], _dt.int64))


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None,
               bytes=None):
    """TF1's ``decode_raw`` (also takes ``bytes`` for ``input_bytes``)."""
    input_bytes = _one_of(input_bytes, "input_bytes", bytes, "bytes")
    return _tf.io.decode_raw(input_bytes, out_type, little_endian=little_endian,
                             name=name)


def parse_single_example(serialized, features, name=None, example_names=None):
    """TF1's argument order of ``tf.io.parse_single_example``."""
    return _tf.io.parse_single_example(serialized, features,
                                       example_names=example_names, name=name)


def parse_example(serialized, features, name=None, example_names=None):
    """TF1's argument order of ``tf.io.parse_example``."""
    return _tf.io.parse_example(serialized, features, example_names=example_names,
                                name=name)


# ---------------------------------------------------------------- Print
def _format(array, budget):
    """TF's Print layout: brackets per dimension, ``budget[0]`` elements at most."""
    if array.ndim == 1:
        shown = array[:max(budget[0], 0)]
        budget[0] -= len(shown)
        items = [x.decode(errors="replace") if isinstance(x, bytes) else str(x)
                 for x in shown.tolist()]
        return "[" + " ".join(items) + ("..." if len(shown) < len(array) else "") + "]"
    parts = []
    for row in array:
        if budget[0] <= 0:
            break
        parts.append(_format(row, budget))
    more = len(parts) < len(array) or budget[0] < 0 or (
        budget[0] == 0 and parts and parts[-1].endswith("...]"))
    return "[" + "".join(parts) + ("..." if more else "") + "]"


def _rank(value):
    return _tf.convert_to_tensor(value).shape.rank


_PRINT_COUNTS = {}


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):
    """TF1's ``Print``: returns ``input_`` unchanged and writes ``message`` followed
    by each tensor of ``data`` (``summarize`` elements each, default 3) to stderr.

    Args:
      input_: the tensor passed through.
      data: list of tensors to print.
      message: a prefix string.
      first_n: print only the first ``first_n`` times (per ``name``/message).
      summarize: how many elements of each tensor to print.
      name: op name.
    """
    key = (name, message)
    count = _PRINT_COUNTS.get(key, 0)
    if first_n is None or first_n < 0 or count < first_n:
        _PRINT_COUNTS[key] = count + 1
        limit = 3 if summarize is None else summarize
        text = "".join(_format(_tf.reshape(d, [-1]).numpy() if _rank(d) == 0
                               else _tf.convert_to_tensor(d).numpy(),
                               [limit if limit >= 0 else 1 << 62]) for d in data)
        sys.stderr.write((message or "") + text + "\n")
    return _tf.identity(input_, name=name)


# ---------------------------------------------------------------- variables as functions
def placeholder_with_default(input, shape, name=None):
    """Eagerly a placeholder is never fed: ``input`` itself."""
    return _tf.identity(input, name=name)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """``ref.assign(value)``; returns ``ref``."""
    return ref.assign(value, name=name)


def assign_add(ref, value, use_locking=None, name=None):
    """``ref.assign_add(value)``; returns ``ref``."""
    return ref.assign_add(value, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    """``ref.assign_sub(value)``; returns ``ref``."""
    return ref.assign_sub(value, name=name)


def _scatter(method):
    def scatter(ref, indices, updates, use_locking=False, name=None):
        slices = _tf.IndexedSlices(_tf.convert_to_tensor(updates, dtype=ref.dtype),
                                   _tf.convert_to_tensor(indices))
        return getattr(ref, method)(slices, name=name)
    scatter.__name__ = method
    scatter.__doc__ = f"``ref.{method}`` at ``indices`` (TF1 function form)."
    return scatter


scatter_update = _scatter("scatter_update")
scatter_add = _scatter("scatter_add")
scatter_sub = _scatter("scatter_sub")
scatter_mul = _scatter("scatter_mul")
scatter_div = _scatter("scatter_div")
scatter_max = _scatter("scatter_max")
scatter_min = _scatter("scatter_min")


def _scatter_nd(method):
    def scatter_nd(ref, indices, updates, use_locking=True, name=None):
        return getattr(ref, method)(indices, _tf.convert_to_tensor(updates, ref.dtype),
                                    name=name)
    scatter_nd.__name__ = method
    scatter_nd.__doc__ = f"``ref.{method}`` at n-d ``indices`` (TF1 function form)."
    return scatter_nd


scatter_nd_update = _scatter_nd("scatter_nd_update")
scatter_nd_add = _scatter_nd("scatter_nd_add")
scatter_nd_sub = _scatter_nd("scatter_nd_sub")

__all__ = [
    "FixedLenFeature",
    "FixedLenSequenceFeature",
    "Print",
    "SparseFeature",
    "VarLenFeature",
    "arg_max",
    "arg_min",
    "argmax",
    "argmin",
    "assign",
    "assign_add",
    "assign_sub",
    "count_nonzero",
    "decode_raw",
    "div",
    "expand_dims",
    "floordiv",
    "log",
    "multinomial",
    "parse_example",
    "parse_single_example",
    "placeholder_with_default",
    "random_crop",
    "random_normal",
    "random_shuffle",
    "random_uniform",
    "reduce_all",
    "reduce_any",
    "reduce_logsumexp",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_sum",
    "scatter_add",
    "scatter_div",
    "scatter_max",
    "scatter_min",
    "scatter_mul",
    "scatter_nd_add",
    "scatter_nd_sub",
    "scatter_nd_update",
    "scatter_sub",
    "scatter_update",
    "sparse_to_dense",
    "squeeze",
    "string_split",
    "to_bfloat16",
    "to_double",
    "to_float",
    "to_int32",
    "to_int64",
    "truncated_normal",
]
