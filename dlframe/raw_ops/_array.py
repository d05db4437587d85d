"""``tf.raw_ops`` array ops: shapes, gather/scatter, slicing, joining, casting."""

import dlframe as tf
from dlframe.ops.framework_ops import _trace_time_value
from dlframe.raw_ops._builder import Table, outputs

OPS = Table()

OPS.op("Reshape", "tensor shape", lambda tensor, shape: tf.reshape(tensor, shape))
OPS.op("Transpose", "x perm", lambda x, perm: tf.transpose(x, perm))
OPS.op("ConjugateTranspose", "x perm", lambda x, perm: tf.transpose(tf.math.conj(x), perm))
OPS.op("GatherV2", "params indices axis",
       lambda params, indices, axis, batch_dims: tf.gather(
           params, indices, axis=axis, batch_dims=batch_dims), batch_dims=0)
OPS.op("Gather", "params indices",
       lambda params, indices, validate_indices: tf.gather(params, indices),
       validate_indices=True)
OPS.op("GatherNd", "params indices",
       lambda params, indices, bad_indices_policy: tf.gather_nd(params, indices),
       bad_indices_policy="")
OPS.op("ScatterNd", "indices updates shape",
       lambda indices, updates, shape, bad_indices_policy: tf.scatter_nd(
           indices, updates, shape), bad_indices_policy="")
for _name, _fn in (("TensorScatterUpdate", tf.tensor_scatter_nd_update),
                   ("TensorScatterAdd", tf.tensor_scatter_nd_add),
                   ("TensorScatterSub", tf.tensor_scatter_nd_sub),
                   ("TensorScatterMax", tf.tensor_scatter_nd_max),
                   ("TensorScatterMin", tf.tensor_scatter_nd_min)):
    OPS.op(_name, "tensor indices updates",
           lambda tensor, indices, updates, bad_indices_policy, _fn=_fn: _fn(
               tensor, indices, updates), bad_indices_policy="")
OPS.op("Pack", "values", lambda values, axis: tf.stack(values, axis=axis), axis=0)
OPS.op("Unpack", "value num",
       lambda value, num, axis: tf.unstack(value, num=num, axis=axis), axis=0)
OPS.op("Slice", "input begin size", lambda input, begin, size: tf.slice(input, begin,
                                                                          size))
OPS.op("StridedSlice", "input begin end strides",
       lambda input, begin, end, strides, **masks: tf.strided_slice(
           input, begin, end, strides, **masks),
       begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0)
OPS.op("Fill", "dims value", lambda dims, value: tf.fill(dims, value))
OPS.op("Range", "start limit delta",
       lambda start, limit, delta: tf.range(start, limit, delta))
OPS.op("LinSpace", "start stop num", lambda start, stop, num: tf.linspace(start, stop,
                                                                           num))
OPS.op("ExpandDims", "input axis", lambda input, axis: tf.expand_dims(input, axis))
OPS.op("Squeeze", "input",
       lambda input, axis: tf.squeeze(input, axis=list(axis) or None), axis=())
OPS.op("Tile", "input multiples", lambda input, multiples: tf.tile(input, multiples))
OPS.op("Pad", "input paddings", lambda input, paddings: tf.pad(input, paddings))
OPS.op("PadV2", "input paddings constant_values",
       lambda input, paddings, constant_values: tf.pad(
           input, paddings, constant_values=constant_values))
OPS.op("MirrorPad", "input paddings mode",
       lambda input, paddings, mode: tf.pad(input, paddings, mode=mode))


def _cast(x, DstT, Truncate):
    return tf.cast(x, DstT)


OPS.op("Cast", "x DstT", _cast, Truncate=False)
OPS.op("Shape", "input", lambda input, out_type: tf.shape(input, out_type=out_type),
       out_type=tf.int32)
OPS.op("ShapeN", "input", lambda input, out_type: tf.shape_n(input, out_type=out_type),
       out_type=tf.int32)
OPS.op("Size", "input", lambda input, out_type: tf.size(input, out_type=out_type),
       out_type=tf.int32)
OPS.op("Rank", "input", lambda input: tf.rank(input))
OPS.op("Where", "condition", lambda condition: tf.where(condition))


def _select(condition, x, y):
    """TF1's Select: a vector condition picks whole rows of higher-rank x and y."""
    condition, x = tf.convert_to_tensor(condition), tf.convert_to_tensor(x)
    if condition.shape.rank == 1 and x.shape.rank > 1:
        condition = tf.reshape(condition, [-1] + [1] * (x.shape.rank - 1))
    return tf.where(condition, x, y)


OPS.op("Select", "condition x y", _select)
OPS.op("SelectV2", "condition t e", lambda condition, t, e: tf.where(condition, t, e))
OPS.op("OneHot", "indices depth on_value off_value",
       lambda indices, depth, on_value, off_value, axis: tf.one_hot(
           indices, depth, on_value=on_value, off_value=off_value, axis=axis), axis=-1)
_TOPK = outputs("TopKV2", "values indices")
OPS.op("TopKV2", "input k",
       lambda input, k, sorted, index_type: _TOPK(*tf.nn.top_k(
           input, k=k, sorted=sorted, index_type=index_type)),
       sorted=True, index_type=tf.int32)
OPS.op("ConcatV2", "values axis", lambda values, axis: tf.concat(values, axis))
OPS.op("Concat", "concat_dim values", lambda concat_dim, values: tf.concat(values,
                                                                            concat_dim))
OPS.op("Split", "axis value num_split",
       lambda axis, value, num_split: tf.split(value, num_split, axis=axis))
OPS.op("SplitV", "value size_splits axis num_split",
       lambda value, size_splits, axis, num_split: tf.split(
           value, size_splits, axis=axis, num=num_split))


def _reverse(tensor, dims):
    """TF1's Reverse: ``dims`` is one bool per dimension."""
    flags = _trace_time_value(tf.convert_to_tensor(dims, tf.bool))
    return tf.reverse(tensor, [i for i, f in enumerate(flags.tolist()) if f])


OPS.op("Reverse", "tensor dims", _reverse)
OPS.op("ReverseV2", "tensor axis", lambda tensor, axis: tf.reverse(tensor, axis))
OPS.op("ReverseSequence", "input seq_lengths seq_dim",
       lambda input, seq_lengths, seq_dim, batch_dim: tf.reverse_sequence(
           input, seq_lengths, seq_axis=seq_dim, batch_axis=batch_dim), batch_dim=0)
OPS.unary("input", Identity=tf.identity, Snapshot=tf.identity, IdentityN=tf.identity_n,
          StopGradient=tf.stop_gradient)


def _prevent_gradient(input, message):
    @tf.custom_gradient
    def forward(x):
        def grad(dy):
            raise LookupError(f"Gradient explicitly disabled. Reason: {message}")
        return tf.identity(x), grad
    return forward(input)


OPS.op("PreventGradient", "input", _prevent_gradient, message="")
OPS.op("NoOp", "", lambda: None)
OPS.op("Bitcast", "input type", lambda input, type: tf.bitcast(input, type))
OPS.op("BroadcastTo", "input shape", lambda input, shape: tf.broadcast_to(input, shape))
OPS.op("BroadcastArgs", "s0 s1", lambda s0, s1: tf.broadcast_dynamic_shape(s0, s1))
_UNIQUE = outputs("Unique", "y idx")
_UNIQUE_COUNTS = outputs("UniqueWithCounts", "y idx count")
OPS.op("Unique", "x", lambda x, out_idx: _UNIQUE(*tf.unique(x, out_idx=out_idx)),
       out_idx=tf.int32)
OPS.op("UniqueWithCounts", "x",
       lambda x, out_idx: _UNIQUE_COUNTS(*tf.unique_with_counts(x, out_idx=out_idx)),
       out_idx=tf.int32)
OPS.op("InvertPermutation", "x", lambda x: tf.math.invert_permutation(x))
OPS.op("Const", "value dtype", lambda value, dtype: tf.constant(value, dtype=dtype))
OPS.op("CheckNumerics", "tensor message",
       lambda tensor, message: tf.debugging.check_numerics(tensor, message))
OPS.op("EnsureShape", "input shape", lambda input, shape: tf.ensure_shape(input, shape))
OPS.op("Roll", "input shift axis", lambda input, shift, axis: tf.roll(input, shift,
                                                                       axis))
OPS.op("SpaceToBatchND", "input block_shape paddings",
       lambda input, block_shape, paddings: tf.space_to_batch_nd(
           input, block_shape, paddings))
OPS.op("BatchToSpaceND", "input block_shape crops",
       lambda input, block_shape, crops: tf.batch_to_space(input, block_shape, crops))
OPS.op("ClipByValue", "t clip_value_min clip_value_max",
       lambda t, clip_value_min, clip_value_max: tf.clip_by_value(
           t, clip_value_min, clip_value_max))


def _bincount(arr, size, weights, binary_output=False):
    weights = tf.convert_to_tensor(weights, tf.float32 if _empty(weights) else None)
    has_weights = weights.shape.num_elements() != 0
    return tf.math.bincount(arr, weights=weights if has_weights else None,
                            minlength=size, maxlength=size,
                            dtype=weights.dtype, binary_output=binary_output)


def _empty(values):
    return isinstance(values, (list, tuple)) and not values


OPS.op("Bincount", "arr size weights", _bincount)
OPS.op("DenseBincount", "input size weights",
       lambda input, size, weights, binary_output: _bincount(
           input, size, weights, binary_output), binary_output=False)
OPS.op("DynamicPartition", "data partitions num_partitions",
       lambda data, partitions, num_partitions: tf.dynamic_partition(
           data, partitions, num_partitions))
OPS.op("DynamicStitch", "indices data",
       lambda indices, data: tf.dynamic_stitch(indices, data))
OPS.op("InTopKV2", "predictions targets k",
       lambda predictions, targets, k: tf.math.in_top_k(targets, predictions, k))
_LISTDIFF = outputs("ListDiff", "out idx")


def _list_diff(x, y, out_idx):
    """Values of 1-D ``x`` not in ``y`` (in order) and their positions in ``x``."""
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    keep = tf.reduce_all(tf.not_equal(x[:, None], y[None, :]), axis=1)
    idx = tf.cast(tf.where(keep)[:, 0], out_idx)
    return _LISTDIFF(tf.gather(x, idx), idx)


OPS.op("ListDiff", "x y", _list_diff, out_idx=tf.int32)
