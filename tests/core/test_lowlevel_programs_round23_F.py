"""Round 23 (F): low-level TF2 programs (Modules, Variables, tapes, checkpoints,
sparse, ragged, tnp, tf.nest) checked against TF 2.21 behaviour observed by running it.
"""

import collections
import os
import subprocess
import sys

import attr
import numpy as np
import pytest

import dlframe as tf


# ---------------------------------------------------------------- Variables
def test_unknown_shape_variable_get_shape_and_messages():
    v = tf.Variable([1.0, 2.0], shape=tf.TensorShape(None))
    assert str(v.get_shape()) == "<unknown>" and str(v.shape) == "<unknown>"
    assert tf.Variable([1.0]).get_shape() == (1,)
    n = tf.Variable([1.0, 2.0], shape=[None])
    n.assign([1.0, 2.0, 3.0])
    assert n.get_shape().as_list() == [None] and n.numpy().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"variable shape \(None,\), and the assigned "
                                         r"value shape \(1, 1\)"):
        n.assign([[1.0]])
    with pytest.raises(ValueError, match=r"In this `tf.Variable` creation, the initial "
                                         r"value's shape \(\(2,\)\) is not compatible"):
        tf.Variable([1.0, 2.0], shape=[3])


def test_assign_add_shape_mismatch_is_tf_invalid_argument():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Cannot update variable with shape \[2\] using a Tensor "
                             r"with shape \[1\], shapes must be equal."):
        v.assign_add([1.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot update variable"):
        v.assign_sub([1.0, 2.0, 3.0])
    assert v.numpy().tolist() == [1.0, 2.0]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"shape \[2,3\] using a Tensor with shape \[3\],"):
        tf.Variable(tf.zeros([2, 3])).assign_add(tf.ones([3]))


def test_variable_aggregation_prints_as_tf2_enum():
    v = tf.Variable(1.0, aggregation=tf.VariableAggregation.MEAN,
                    synchronization=tf.VariableSynchronization.ON_READ)
    assert str(v.aggregation) == "VariableAggregationV2.MEAN"
    assert v.aggregation is tf.VariableAggregation.MEAN and not v.trainable


# ---------------------------------------------------------------- tapes
def test_tape_reset_outside_and_batch_jacobian_mismatch_messages():
    x = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match="^Tape is not recording.$"):
        tape.reset()
    w = tf.Variable(tf.ones([2, 2]))
    with tf.GradientTape() as tape:
        y = tf.tanh(x @ w)
    with pytest.raises(ValueError, match=r"Need first dimension of target shape "
                                         r"\(\(1, 2\)\) and source shape \(\(2, 2\)\)"):
        tape.batch_jacobian(y, w)


def test_custom_gradient_variables_keyword_rule():
    scale = tf.Variable(2.0, name="scale")

    @tf.custom_gradient
    def no_kwarg(x):
        return x * scale, lambda dy: dy

    x = tf.constant(3.0)
    with pytest.raises(TypeError, match="@tf.custom_gradient grad_fn must accept "
                                        "keyword argument 'variables', since function "
                                        "uses variables: \\[<tf.Variable 'scale:0'"):
        with tf.GradientTape() as tape:
            tape.watch(x)
            no_kwarg(x)

    @tf.custom_gradient
    def with_kwargs(x):
        def grad(dy, **kwargs):
            assert [v.name for v in kwargs["variables"]] == ["scale:0"]
            return dy * scale * 10.0, [dy * x * 100.0]
        return x * scale, grad

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = with_kwargs(x)
    gx, gv = tape.gradient(y, [x, scale])
    assert float(gx) == 20.0 and float(gv) == 300.0


# ---------------------------------------------------------------- sparse
def test_sparse_dense_matmul_dense_gradient_is_a_tensor():
    sp = tf.sparse.SparseTensor([[0, 2], [1, 0]], [4.0, 3.0], [2, 3])
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.sparse.sparse_dense_matmul(sp, w) ** 2)
    g = tape.gradient(y, w)
    assert type(g) is type(tf.constant(1.0))   # TF: a dense Tensor, not IndexedSlices
    a = np.array([[0, 0, 4], [3, 0, 0]], np.float32)
    expected = a.T @ (2 * (a @ w.numpy()))
    np.testing.assert_allclose(g.numpy(), expected)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.sparse.sparse_dense_matmul(w, tf.sparse.transpose(sp),
                                                        adjoint_a=True))
    g = tape.gradient(y, w)
    assert type(g) is type(tf.constant(1.0))
    # d/dw sum(w^T a^T) = column sums of a, broadcast over w's columns
    np.testing.assert_allclose(g.numpy(), np.tile(a.sum(0)[:, None], [1, 2]))


def test_sparse_to_dense_index_errors_name_the_index():
    dup = tf.sparse.SparseTensor([[0, 0], [0, 0]], [1.0, 2.0], [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^indices\[1\] = \[0, 0\] is repeated"):
        tf.sparse.to_dense(dup)
    assert tf.sparse.to_dense(dup, validate_indices=False).numpy()[0, 0] == 2.0
    far = tf.sparse.SparseTensor([[0, 1], [0, 5]], [1.0, 2.0], [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"indices\[1\] = \[0, 5\] is out of bounds: need "
                             r"0 <= index < \[2, 2\]"):
        tf.sparse.to_dense(far)
    late = tf.sparse.SparseTensor([[1, 0], [0, 2], [0, 2]], [1.0, 2.0, 3.0], [2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"indices\[1\] = \[0, 2\] is out of order"):
        tf.sparse.to_dense(late)


# ---------------------------------------------------------------- ragged
def test_ragged_reduce_variance_and_std_match_tf():
    rt = tf.ragged.constant([[1.0, 2.0], [], [3.0, 4.0, 5.0]])
    var = tf.math.reduce_variance(rt, axis=1).numpy()
    # TF 2.21's figures (E[x^2] - E[x]^2 in float32; an empty row is NaN)
    np.testing.assert_array_equal(var, np.float32([0.25, np.nan, 0.66666603]))
    std = tf.math.reduce_std(rt, axis=1, keepdims=True)
    assert std.shape == (3, 1)
    np.testing.assert_array_equal(std.numpy().ravel(), np.float32([0.5, np.nan,
                                                                   0.8164962]))
    assert float(tf.math.reduce_variance(rt)) == 2.0
    np.testing.assert_array_equal(tf.math.reduce_variance(rt, axis=0).numpy(),
                                  [1.0, 1.0, 0.0])
    ints = tf.math.reduce_std(tf.ragged.constant([[1, 2], [3]]), axis=1)
    assert ints.dtype == tf.float64 and ints.numpy().tolist() == [0.5, 0.0]
    inner = tf.ragged.constant([[[1.0, 2.0], [3.0, 5.0]], [[4.0, 4.0]]], ragged_rank=1)
    assert tf.math.reduce_variance(inner, axis=2).to_list() == [[0.25, 1.0], [0.0]]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^rt_input.shape and shape=\[2,2,2\] are incompatible: "
                             r"rt_input.rank = 2 but shape.rank = 3$"):
        rt.to_tensor(shape=[2, 2, 2])
    assert rt.to_tensor(shape=tf.TensorShape(None)).shape == (3, 3)
    with pytest.raises(ValueError, match="complex dtypes"):
        tf.math.reduce_variance(tf.ragged.constant([[1 + 1j, 2]]), axis=1)


# ---------------------------------------------------------------- tnp
def test_numpy_behavior_scalar_promotion_and_size_in_subprocess():
    code = """
import numpy as np
import dlframe as tf
tf.experimental.numpy.experimental_enable_numpy_behavior()
assert (tf.constant(1) + np.float64(2.5)).dtype == tf.float64
assert float(tf.constant(1) + np.float64(2.5)) == 3.5
assert (tf.constant(1) + np.int64(2)).dtype == tf.int64
assert (tf.constant(1.0, tf.float16) + np.float32(2.5)).dtype == tf.float32
assert (np.float64(2.5) * tf.constant(2)).dtype == tf.float64
assert (tf.constant(1) + 2).dtype == tf.int32
size = tf.constant([[1.0, 2.0]]).size
assert type(size) is np.int64 and size == 2
f = tf.function(lambda x: x.size, input_signature=[tf.TensorSpec([None, 2])])
assert int(f(tf.ones([3, 2]))) == 6
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, cwd=os.path.dirname(os.path.dirname(
                             os.path.dirname(os.path.abspath(__file__)))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------- tf.nest
Point = collections.namedtuple("Point", ["x", "y"])


@attr.s
class Pair:
    a = attr.ib()
    b = attr.ib()


def test_nest_attrs_classes_are_structures():
    s = {"p": Point(1, 2), "l": [3, (4, 5)], "ab": Pair(6, 7), "z": None}
    assert tf.nest.flatten(s) == [6, 7, 3, 4, 5, 1, 2, None]
    out = tf.nest.map_structure(lambda v: v * 10, {"p": Point(1, 2), "ab": Pair(6, 7)})
    assert out == {"p": Point(10, 20), "ab": Pair(60, 70)}
    assert tf.nest.pack_sequence_as(Pair(0, [0]), [1, 2]) == Pair(1, [2])
    assert tf.nest.is_nested(Pair(1, 2)) and not tf.nest.is_nested(Pair)
    with pytest.raises(ValueError, match=r'Substructure "type=list str=\[2\]" is a '
                                         r'sequence, while substructure "type=int '
                                         r'str=2" is not\nEntire first structure:\n'
                                         r'Pair\(a=., b=\[.\]\)'):
        tf.nest.assert_same_structure(Pair(1, [2]), Pair(1, 2))


def test_nest_check_types_defaults_and_errors():
    with pytest.raises(TypeError, match="The two namedtuples don't have the same "
                                        "sequence type. First structure type=list "
                                        r"str=\[1, 2\] has type list"):
        tf.nest.map_structure(lambda a, b: a, [1, 2], (3, 4))
    assert tf.nest.map_structure(lambda a, b: a + b, [1, 2], (3, 4),
                                 check_types=False) == [4, 6]
    with pytest.raises(TypeError, match="has type Point, while second structure"):
        tf.nest.assert_same_structure(Point(1, 2), (1, 2))
    same = collections.namedtuple("Point", ["x", "y"])   # same name and fields
    tf.nest.assert_same_structure(Point(1, 2), same(1, 2))
    tf.nest.assert_same_structure({"a": 1}, collections.OrderedDict(a=1))
    keys = r"The two dictionaries don't have the same set of keys. First structure "
    with pytest.raises(ValueError, match=keys + r"has keys type=list str=\['a', 'b'\]"):
        tf.nest.assert_same_structure({"a": 1, "b": 2}, {"a": 1})
    tf.nest.assert_same_structure({"a": 1}, {"b": 1}, check_types=False)   # as TF
    count = (r"don't have the same number of elements. First structure: type=list "
             r"str=\[\]. Second structure: type=list str=\[1\]\nEntire first "
             r"structure:\n\[\[\]\]\nEntire second structure:\n\[\[.\]\]$")
    with pytest.raises(ValueError, match=count):
        tf.nest.assert_same_structure([[]], [[1]])
    with pytest.raises(ValueError, match="^Only valid keyword arguments are "
                                         "`check_types` and `expand_composites`, not: "
                                         "`foo`$"):
        tf.nest.map_structure(lambda a: a, [1], foo=1)
    with pytest.raises(ValueError, match="^Must provide at least one structure$"):
        tf.nest.map_structure(lambda a: a)
    rt = tf.ragged.constant([[1, 2], [3]])
    with pytest.raises(ValueError, match="is a sequence, while substructure"):
        tf.nest.assert_same_structure(rt, tf.constant([1]), expand_composites=True)


def test_nest_pack_sequence_as_errors_and_dict_order():
    with pytest.raises(ValueError, match=r"^Could not pack sequence. Structure had 2 "
                                         r"atoms, but flat_sequence had 3 items.  "
                                         r"Structure: \[0, 0\], flat_sequence: "
                                         r"\[1, 2, 3\].$"):
        tf.nest.pack_sequence_as([0, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="Structure had 3 atoms, but flat_sequence "
                                         "had 2 items"):
        tf.nest.pack_sequence_as({"b": [0, 0], "a": 0}, [1, 2])
    with pytest.raises(ValueError, match="The target structure is of type "
                                         "`<class 'int'>`"):
        tf.nest.pack_sequence_as(0, [1, 2])
    assert tf.nest.pack_sequence_as(0, [1]) == 1
    with pytest.raises(TypeError, match="Attempted to pack value:\n  5\ninto a "
                                        "structure"):
        tf.nest.pack_sequence_as([0], 5)
    assert tf.nest.flatten({10: "a", 9: "b"}) == ["b", "a"]   # numeric key order
    dd = collections.defaultdict(int, {"b": 1, "a": 2})
    out = tf.nest.map_structure(lambda v: v * 2, dd)
    assert type(out) is collections.defaultdict and out == {"b": 2, "a": 4}
    assert out.default_factory is int


# ---------------------------------------------------------------- checkpoints
def test_checkpoint_root_and_missing_file_errors(tmp_path):
    with pytest.raises(ValueError, match="`Checkpoint` was expecting root to be a "
                                         "trackable object .* got 1. If you believe"):
        tf.train.Checkpoint(1)
    missing = str(tmp_path / "nonexistent-1")
    with pytest.raises(tf.errors.NotFoundError,
                       match="^Error when restoring from checkpoint or SavedModel at "
                             ".*nonexistent-1: Unsuccessful TensorSliceReader "
                             "constructor: Failed to find any matching files"):
        tf.train.Checkpoint(x=tf.Variable(1)).restore(missing)


def test_checkpoint_restore_checks_dtype_before_shape(tmp_path):
    path = tf.train.Checkpoint(x=tf.Variable(1)).save(str(tmp_path / "c"))
    target = tf.Variable([1.0, 2.0, 3.0])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"tensor_name = x/.ATTRIBUTES/VARIABLE_VALUE; expected "
                             r"dtype float does not equal original dtype int32$"):
        tf.train.Checkpoint(x=target).restore(path)
    path = tf.train.Checkpoint(x=tf.Variable([1.0, 2.0])).save(str(tmp_path / "s"))
    small = tf.Variable([1.0], name="small")
    with pytest.raises(ValueError, match=r"Received incompatible tensor with shape "
                                         r"\(2,\) when attempting to restore variable "
                                         r"with shape \(1,\) and name small:0.$"):
        tf.train.Checkpoint(x=small).restore(path)
    assert small.numpy().tolist() == [1.0]


def test_module_checkpoint_manager_round_trip_and_unresolved_listing(tmp_path):
    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
            self.b = tf.Variable([0.5, -0.5])

        def __call__(self, x):
            return x @ self.w + self.b

    net, opt = Net(), tf.keras.optimizers.Adam(0.1)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=net, optimizer=opt),
                                         str(tmp_path), max_to_keep=2)
    x = tf.constant([[1.0, 1.0]])
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(net(x) ** 2)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        manager.save()
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-2", "ckpt-3"]
    # TF 2.21's weights after three Adam(0.1) steps
    np.testing.assert_allclose(
        tf.train.load_variable(str(tmp_path), "model/w/.ATTRIBUTES/VARIABLE_VALUE"),
        [[0.7009049, 1.7006979], [2.7009048, 3.700698]], rtol=1e-6)
    fresh = Net()
    status = tf.train.Checkpoint(model=fresh).restore(manager.latest_checkpoint)
    np.testing.assert_allclose(fresh.w.numpy(), net.w.numpy())
    with pytest.raises(AssertionError) as info:
        status.assert_consumed()
    listed = str(info.value)
    # each optimizer value once, under one path (not again under its aliases)
    assert listed.count("optimizer/") == 6 and "_iterations" not in listed
    status.expect_partial().assert_existing_objects_matched()


def test_variable_scatter_row_range_and_unconnected_mode_messages():
    with tf.device("cpu:0"):   # (TF's GPU kernels ignore out-of-range rows)
        v = tf.Variable([1.0, 2.0, 3.0, 4.0])
        rows = tf.IndexedSlices(tf.constant([1.0, 1.0]), tf.constant([0, 9]))
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"^indices\[1\] = 9 is not in \[0, 4\)"):
            v.scatter_update(rows)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"indices\[0\] = \[9\] does not index into shape"):
            v.scatter_nd_update([[9]], [1.0])
    assert v.numpy().tolist() == [1.0, 2.0, 3.0, 4.0]
    with tf.GradientTape() as tape:
        y = v * 2.0
    with pytest.raises(ValueError, match="^Unknown value for unconnected_gradients: "
                                         "'bogus'$"):
        tape.gradient(y, v, unconnected_gradients="bogus")


def test_sparse_dense_matmul_shape_and_dtype_errors():
    st = tf.sparse.SparseTensor([[0, 0], [0, 2], [1, 1]], [1.0, 5.0, 3.0], [2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^Cannot multiply A and B because inner dimension does "
                             r"not match: 3 vs. 2.  Did you forget a transpose\?  "
                             r"Dimensions of A: \[2, 3\).  Dimensions of B: \[2,2\]"):
        tf.sparse.sparse_dense_matmul(st, tf.ones([2, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="match: 2 vs. 3"):
        tf.sparse.sparse_dense_matmul(st, tf.ones([3, 2]), adjoint_a=True)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"cannot compute SparseTensorDenseMatMul as input "
                             r"#3\(zero-based\) was expected to be a float32 tensor "
                             r"but is a float64 tensor"):
        tf.sparse.sparse_dense_matmul(st, tf.ones([3, 2], tf.float64))
    out = tf.sparse.sparse_dense_matmul(st, tf.ones([2, 3]), adjoint_b=True)
    np.testing.assert_array_equal(out.numpy(), [[6.0, 6.0], [3.0, 3.0]])


def test_ragged_concat_row_splits_dtypes():
    a = tf.ragged.constant([[1.0, 2.0], [], [3.0]])
    b = tf.RaggedTensor.from_row_splits([4.0], tf.constant([0, 1], tf.int32))
    with pytest.raises(ValueError, match="^Input RaggedTensors have mismatched "
                                         "row_splits dtypes; use RaggedTensor."
                                         "with_row_splits_dtype"):
        tf.concat([a, b], 0)
    joined = tf.concat([a, b.with_row_splits_dtype(tf.int64)], 0)
    assert joined.to_list() == [[1.0, 2.0], [], [3.0], [4.0]]
    small = tf.ragged.constant([[1, 2], [3]], row_splits_dtype=tf.int32)
    mixed = tf.concat([small, tf.constant([[5, 6]])], 0)   # dense follows the splits
    assert mixed.row_splits.dtype == tf.int32
    assert mixed.to_list() == [[1, 2], [3], [5, 6]]


def test_integer_gradient_is_none_with_a_logged_warning(caplog):
    i = tf.constant(3)
    with caplog.at_level("WARNING"):
        with tf.GradientTape() as tape:
            tape.watch(i)
            y = i * i
    assert tape.gradient(y, i) is None
    assert any("The dtype of the watched tensor must be floating (e.g. tf.float32), "
               "got tf.int32" in r.getMessage() for r in caplog.records)
    a, b = tf.Variable(3.0), tf.Variable(4.0)
    with tf.GradientTape() as tape:
        y = a * 2.0
    zero = tf.UnconnectedGradients.ZERO
    ga, gb = tape.gradient(y, [a, b], unconnected_gradients=zero)
    assert float(ga) == 2.0 and float(gb) == 0.0
