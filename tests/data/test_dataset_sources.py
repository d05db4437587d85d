"""Dataset sources, element structure, specs, cardinality and iterators."""

import collections

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError, OutOfRangeError

Dataset = tf.data.Dataset


def test_range_prints_tensors_and_spec():
    ds = Dataset.range(5)
    got = [str(x) for x in ds.take(2)]
    assert got == ["tf.Tensor(0, shape=(), dtype=int64)", "tf.Tensor(1, shape=(), dtype=int64)"]
    assert repr(ds.element_spec) == "TensorSpec(shape=(), dtype=tf.int64, name=None)"
    assert int(ds.cardinality()) == 5 and len(ds) == 5
    assert list(Dataset.range(2, 10, 3).as_numpy_iterator()) == [2, 5, 8]
    assert Dataset.range(3, output_type=tf.int32).element_spec.dtype == tf.int32


def test_reiterable_and_iterator_protocol():
    ds = Dataset.range(3)
    assert list(ds.as_numpy_iterator()) == list(ds.as_numpy_iterator()) == [0, 1, 2]
    it = iter(ds.take(1))
    assert isinstance(next(it), tf.Tensor)
    with pytest.raises(OutOfRangeError):
        it.get_next()
    it = iter(ds)
    assert int(it.get_next()) == 0 and int(next(it)) == 1
    opt = it.get_next_as_optional()
    assert bool(opt.has_value()) and int(opt.get_value()) == 2
    assert not bool(it.get_next_as_optional().has_value())


def test_from_tensor_slices_structures():
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    ds = Dataset.from_tensor_slices((x, {"a": [b"p", b"q", b"r"], "b": [1, 2, 3]}))
    spec = ds.element_spec
    assert spec[0] == tf.TensorSpec((2,), tf.float64)
    assert spec[1]["a"].dtype == tf.string and spec[1]["b"].dtype == tf.int32
    elems = list(ds)
    assert len(elems) == 3
    first = elems[0]
    assert isinstance(first, tuple) and isinstance(first[1], dict)
    np.testing.assert_array_equal(first[0].numpy(), [0.0, 1.0])
    assert first[1]["a"].numpy() == b"p"
    # A Python list is a tensor, not a structure, as in TF.
    assert Dataset.from_tensor_slices([[1, 2], [3, 4]]).element_spec.shape == (2,)
    strings = list(Dataset.from_tensor_slices(["a", "b"]).as_numpy_iterator())
    assert strings == [b"a", b"b"]


def test_from_tensor_slices_copies_input_and_checks_sizes():
    x = np.zeros(3)
    ds = Dataset.from_tensor_slices(x)
    x[:] = 7
    assert list(ds.as_numpy_iterator()) == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(2)))
    with pytest.raises(ValueError):
        Dataset.from_tensor_slices(np.float32(1.0))


def test_from_tensor_slices_of_tensors_and_namedtuple():
    Point = collections.namedtuple("Point", "x y")
    ds = Dataset.from_tensor_slices(Point(tf.constant([1.0, 2.0]), np.array([3, 4])))
    elem = next(iter(ds))
    assert isinstance(elem, Point) and float(elem.x) == 1.0 and int(elem.y) == 3


def test_from_tensors():
    ds = Dataset.from_tensors(([1, 2], "s"))
    assert ds.element_spec[0].shape == (2,) and ds.element_spec[1].dtype == tf.string
    assert int(ds.cardinality()) == 1
    assert len(list(ds)) == 1


def test_from_generator_signature_and_legacy():
    def gen():
        for i in range(3):
            yield i, np.ones(i, np.float32)
    sig = (tf.TensorSpec((), tf.int64), tf.TensorSpec((None,), tf.float32))
    ds = Dataset.from_generator(gen, output_signature=sig)
    assert ds.element_spec == sig
    out = list(ds.as_numpy_iterator())
    assert [o[0] for o in out] == [0, 1, 2] and out[2][1].shape == (2,)
    assert int(ds.cardinality()) == -2
    legacy = Dataset.from_generator(lambda: iter([1, 2]), output_types=tf.int64,
                                    output_shapes=())
    assert legacy.element_spec == tf.TensorSpec((), tf.int64)
    assert list(legacy.as_numpy_iterator()) == [1, 2]
    with_args = Dataset.from_generator(lambda n: range(n), args=(3,),
                                       output_signature=tf.TensorSpec((), tf.int32))
    assert list(with_args.as_numpy_iterator()) == [0, 1, 2]
    # Each iteration calls the generator again.
    assert list(with_args.as_numpy_iterator()) == [0, 1, 2]


@pytest.mark.parametrize("values,spec,needle", [
    ([np.zeros(3), np.zeros(2)], tf.TensorSpec((3,), tf.float64), "shape (2,)"),
    (["a"], tf.TensorSpec((), tf.float32), "expected type was float32"),
    ([(1, 2)], tf.TensorSpec((), tf.int32), "shape (2,)"),
    ([1], (tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.int32)), "structure"),
])
def test_from_generator_bad_values(values, spec, needle):
    ds = Dataset.from_generator(lambda: iter(values), output_signature=spec)
    with pytest.raises(InvalidArgumentError) as info:
        list(ds)
    assert isinstance(info.value, TypeError)
    assert needle in str(info.value)


def test_zip_concatenate_enumerate():
    a, b = Dataset.range(3), Dataset.range(10, 15)
    z = Dataset.zip((a, b))
    assert int(z.cardinality()) == 3
    assert list(z.as_numpy_iterator()) == [(0, 10), (1, 11), (2, 12)]
    assert list(Dataset.zip(a, b).as_numpy_iterator())[0] == (0, 10)
    zd = Dataset.zip({"x": a, "y": b})
    assert list(zd.as_numpy_iterator())[1] == {"x": 1, "y": 11}
    c = a.concatenate(b)
    assert int(c.cardinality()) == 8 and list(c.as_numpy_iterator())[3] == 10
    with pytest.raises(TypeError):
        a.concatenate(Dataset.from_tensor_slices([1.0]))
    e = Dataset.range(3).enumerate(start=5)
    assert list(e.as_numpy_iterator()) == [(5, 0), (6, 1), (7, 2)]
    assert int(Dataset.range(3).repeat().enumerate().cardinality()) == -1


def test_cardinality_values_match_tf():
    r = Dataset.range(10)
    assert tf.data.INFINITE_CARDINALITY == -1 and tf.data.UNKNOWN_CARDINALITY == -2
    assert tf.data.AUTOTUNE == -1 and tf.data.experimental.AUTOTUNE == -1
    cases = {
        r.repeat(): -1, r.filter(lambda x: x > 1): -2, r.batch(3): 4,
        r.batch(3, drop_remainder=True): 3, r.take(3).skip(1): 2, r.skip(20): 0,
        Dataset.range(3).repeat(2): 6, Dataset.range(0).repeat(): 0, r.window(3, 2): 5,
        r.batch(3).unbatch(): -2, r.shard(3, 1): 3, r.shuffle(5): 10, r.cache(): 10,
        r.prefetch(1): 10, r.map(lambda x: x): 10, r.repeat().take(4): 4,
    }
    for ds, want in cases.items():
        assert int(ds.cardinality()) == want, ds
    assert int(tf.data.experimental.cardinality(r)) == 10
    with pytest.raises(TypeError, match="infinite"):
        len(r.repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(r.filter(lambda x: True))


def test_repr_and_specs():
    assert repr(Dataset.range(3)).startswith("<_RangeDataset element_spec=TensorSpec(")
    spec = Dataset.range(3).map(lambda x: {"a": x, "b": (x, tf.cast(x, tf.float32))})
    assert spec.element_spec["b"][1].dtype == tf.float32
    assert Dataset.range(3).map(lambda x: [x, x]).element_spec == (
        tf.TensorSpec((), tf.int64), tf.TensorSpec((), tf.int64))


def test_options_roundtrip():
    opts = tf.data.Options()
    opts.deterministic = False
    opts.experimental_distribute.auto_shard_policy = \
        tf.data.experimental.AutoShardPolicy.OFF
    ds = Dataset.range(3).with_options(opts).map(lambda x: x)
    got = ds.options()
    assert got.deterministic is False
    assert got.experimental_distribute.auto_shard_policy == \
        tf.data.experimental.AutoShardPolicy.OFF
    with pytest.raises(AttributeError):
        opts.not_an_option = 1


def test_list_files(tmp_path):
    for name in "bca":
        (tmp_path / f"{name}.txt").write_text(name)
    ds = Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)
    assert [p.decode()[-5:] for p in ds.as_numpy_iterator()] == ["a.txt", "b.txt", "c.txt"]
    shuffled = Dataset.list_files(str(tmp_path / "*.txt"), seed=3)
    assert sorted(shuffled.as_numpy_iterator()) == sorted(ds.as_numpy_iterator())
    with pytest.raises(InvalidArgumentError):
        Dataset.list_files(str(tmp_path / "*.nope"))


def test_sample_and_choose():
    a, b = Dataset.from_tensors(np.int64(0)).repeat(), Dataset.from_tensors(np.int64(1)).repeat()
    sample = Dataset.sample_from_datasets([a, b], weights=[0.9, 0.1], seed=1).take(400)
    ones = sum(int(x) for x in sample.as_numpy_iterator())
    assert 10 < ones < 90
    choice = Dataset.range(2).repeat(2)
    got = Dataset.choose_from_datasets([Dataset.range(10, 20), Dataset.range(20, 30)],
                                       choice)
    assert list(got.as_numpy_iterator()) == [10, 20, 11, 21]


def test_reduce_and_single_element():
    total = Dataset.range(5).reduce(np.int64(0), lambda s, x: s + x)
    assert isinstance(total, tf.Tensor) and int(total) == 10
    assert int(Dataset.range(1).get_single_element()) == 0
    with pytest.raises(InvalidArgumentError):
        Dataset.range(2).get_single_element()
