"""Round-13 probes of tf.data: ``flat_map`` / ``interleave`` functions traced when the
pipeline is built, random kernels per iterator, and the tf.data performance guide's
pipelines (orders, specs, and work that really overlaps)."""

import threading
import time

import numpy as np
import pytest

import dlframe as tf


def _values(ds):
    return [np.asarray(v).tolist() for v in ds.as_numpy_iterator()]


def _rounded(ds):
    return np.round(_values(ds), 4).tolist()


# ------------------------------------------------- flat_map / interleave traced once
def test_flat_map_and_interleave_print_symbolic_input_once_at_build(capsys):
    def fm(x):
        print("fm", x)
        return tf.data.Dataset.from_tensors(x).repeat(2)
    ds = tf.data.Dataset.range(3).flat_map(fm)
    assert capsys.readouterr().out == \
        'fm Tensor("args_0:0", shape=(), dtype=int64)\n'
    assert _values(ds) == [0, 0, 1, 1, 2, 2]
    assert _values(ds) == [0, 0, 1, 1, 2, 2]
    il = tf.data.Dataset.range(1, 4).interleave(
        lambda x: (print("il", x), tf.data.Dataset.range(x))[1], cycle_length=2)
    assert capsys.readouterr().out == \
        'il Tensor("args_0:0", shape=(), dtype=int64)\n'
    assert _values(il) == [0, 0, 1, 0, 1, 2]
    assert capsys.readouterr().out == ""


def test_flat_map_traced_input_has_spec_shape_and_names(capsys):
    ds = tf.data.Dataset.range(5).batch(2).flat_map(
        lambda x: (print(x), tf.data.Dataset.from_tensor_slices(x))[1])
    assert capsys.readouterr().out == \
        'Tensor("args_0:0", shape=(None,), dtype=int64)\n'
    assert _values(ds) == [0, 1, 2, 3, 4]
    pairs = tf.data.Dataset.from_tensor_slices((["a", "b"], [1, 2])).flat_map(
        lambda s, i: (print(s, i), tf.data.Dataset.from_tensors(i))[1])
    assert capsys.readouterr().out == (
        'Tensor("args_0:0", shape=(), dtype=string) '
        'Tensor("args_1:0", shape=(), dtype=int32)\n')
    assert _values(pairs) == [1, 2]


def test_flat_map_result_not_a_dataset_fails_at_build():
    with pytest.raises(TypeError, match="map_func.*tf.data.Dataset"):
        tf.data.Dataset.range(3).flat_map(lambda x: x + 1)


def test_interleave_file_reader_traced_without_opening_placeholder(tmp_path, capsys):
    for i in range(2):
        (tmp_path / f"f{i}.txt").write_text("\n".join(f"l{i}_{j}" for j in range(3)))
    files = tf.data.Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)

    def opener(name):
        print("open", name)
        return tf.data.TextLineDataset(name)
    lines = files.interleave(opener, cycle_length=2, block_length=2)
    assert capsys.readouterr().out == \
        'open Tensor("args_0:0", shape=(), dtype=string)\n'
    # order from TF 2.21
    assert [v.decode() for v in lines.as_numpy_iterator()] == \
        ["l0_0", "l0_1", "l1_0", "l1_1", "l0_2", "l1_2"]


# ------------------------------------------------- random kernels per iterator
# tf.random.set_seed(1); Dataset.range(n).map(lambda x: tf.random.uniform([])):
# the kernel's sequence, from TensorFlow 2.21.
TF_SEQ = [0.8127, 0.5273, 0.8489, 0.8929, 0.3781, 0.9844, 0.228, 0.2815]


def _random_map(n, **kwargs):
    tf.random.set_seed(1)
    return tf.data.Dataset.range(n).map(lambda x: tf.random.uniform([]), **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"num_parallel_calls": 2}])
def test_open_iterators_have_their_own_random_kernels(kwargs):
    ds = _random_map(4, **kwargs)
    it1, it2 = iter(ds), iter(ds)
    got = [float(next(it1)), float(next(it1)), float(next(it2)), float(next(it1)),
           float(next(it2))]
    assert np.round(got, 4).tolist() == [TF_SEQ[0], TF_SEQ[1], TF_SEQ[0], TF_SEQ[2],
                                         TF_SEQ[1]]
    it3 = iter(ds)      # opening another iterator restarts nobody else's kernel
    assert round(float(next(it1)), 4) == TF_SEQ[3]
    assert round(float(next(it3)), 4) == TF_SEQ[0]
    n1, n2 = ds.as_numpy_iterator(), ds.prefetch(2).as_numpy_iterator()
    assert np.round([float(next(n1)), float(next(n2)), float(next(n1))], 4).tolist() == \
        [TF_SEQ[0], TF_SEQ[0], TF_SEQ[1]]


def test_zip_and_concatenate_of_one_dataset_draw_independently():
    ds = _random_map(4)
    assert _rounded(tf.data.Dataset.zip((ds, ds))) == [[v, v] for v in TF_SEQ[:4]]
    assert _rounded(ds.concatenate(ds)) == TF_SEQ[:4] * 2
    pairs = [(round(float(a), 4), round(float(b), 4)) for a, b in zip(ds, ds)]
    assert pairs == [(v, v) for v in TF_SEQ[:4]]


def test_repeat_continues_the_kernels_of_the_stages_below():
    ds = _random_map(2)
    assert _rounded(ds.repeat(2).repeat(2)) == TF_SEQ
    assert _rounded(ds.prefetch(1).repeat(3)) == TF_SEQ[:6]
    assert _rounded(ds.batch(2).repeat(2)) == [TF_SEQ[:2], TF_SEQ[2:4]]
    assert _rounded(tf.data.Dataset.zip((ds, ds)).repeat(2)) == \
        [[v, v] for v in TF_SEQ[:4]]


def test_filter_scan_reduce_kernels_per_iteration():
    tf.random.set_seed(1)
    f = tf.data.Dataset.range(6).filter(lambda x: tf.random.uniform([]) < 0.9)
    assert _values(f) == [0, 1, 2, 3, 4] == _values(f)    # from TF 2.21
    it1, it2 = iter(f), iter(f)
    assert [int(next(it1)), int(next(it2)), int(next(it1)), int(next(it2))] == \
        [0, 0, 1, 1]
    s = tf.data.Dataset.range(3).scan(
        tf.constant(0.0), lambda st, x: (st + tf.random.uniform([]), st))
    assert _rounded(s) == [0.0, 0.8127, 1.34] == _rounded(s)
    total = tf.data.Dataset.range(3).reduce(
        tf.constant(0.0), lambda st, x: st + tf.random.uniform([]))
    assert round(float(total), 4) == round(sum(TF_SEQ[:3]), 4)


# ------------------------------------------------- the tf.data performance guide
def _barrier_generator(barrier, n):
    """A generator that needs a partner on another thread to get past its start."""
    def gen():
        barrier.wait(timeout=5)   # BrokenBarrierError when nobody runs alongside
        yield from range(n)
    return gen


def test_parallel_interleave_reads_inputs_at_once_in_tf_order():
    barrier = threading.Barrier(2)
    gen = _barrier_generator(barrier, 3)

    def artificial(_):
        return tf.data.Dataset.from_generator(
            gen, output_signature=tf.TensorSpec(shape=(), dtype=tf.int64))
    ds = tf.data.Dataset.range(2).interleave(
        artificial, cycle_length=2, num_parallel_calls=tf.data.AUTOTUNE)
    assert ds.element_spec == tf.TensorSpec(shape=(), dtype=tf.int64)
    assert _values(ds) == [0, 0, 1, 1, 2, 2]


def test_parallel_interleave_keeps_cycle_and_block_orders():
    def make(x):
        return tf.data.Dataset.from_tensors(x).repeat(6)
    src = tf.data.Dataset.range(1, 6)
    seq = _values(src.interleave(make, cycle_length=2, block_length=4))
    # the guide's order, from TF 2.21
    assert seq == [1] * 4 + [2] * 4 + [1] * 2 + [2] * 2 + [3] * 4 + [4] * 4 + \
        [3] * 2 + [4] * 2 + [5] * 6
    for calls in (2, tf.data.AUTOTUNE):
        assert _values(src.interleave(make, cycle_length=2, block_length=4,
                                      num_parallel_calls=calls)) == seq
    ragged = src.interleave(lambda x: tf.data.Dataset.from_tensors(x).repeat(3),
                            cycle_length=3, block_length=2, num_parallel_calls=2)
    assert _values(ragged) == [1, 1, 2, 2, 3, 3, 1, 2, 3, 4, 4, 5, 5, 4, 5]


def test_parallel_interleave_error_reaches_consumer_and_bad_calls_rejected():
    def bad(x):
        return tf.data.Dataset.from_tensors(x).map(
            lambda v: tf.debugging.assert_less(v, tf.constant(1, tf.int64)) or v)
    ds = tf.data.Dataset.range(3).interleave(bad, cycle_length=2,
                                             num_parallel_calls=2)
    with pytest.raises(tf.errors.InvalidArgumentError):
        _values(ds)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_parallel_calls.*-5"):
        tf.data.Dataset.range(3).interleave(lambda x: tf.data.Dataset.range(x),
                                            num_parallel_calls=-5)


def test_prefetch_and_parallel_map_overlap_work():
    # prefetch: the producer makes element 1 while the consumer holds element 0
    barrier = threading.Barrier(2)

    def gen():
        yield 0
        barrier.wait(timeout=5)   # BrokenBarrierError when nobody runs alongside
        yield 1
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec(shape=(), dtype=tf.int64))
    it = iter(ds.prefetch(tf.data.AUTOTUNE))
    assert int(next(it)) == 0
    barrier.wait(timeout=5)
    assert [int(v) for v in it] == [1]
    # parallel map: the py_function calls of elements 1 and 2, 3 and 4 meet
    # (element 0 is the one the graph is traced on)
    meet = threading.Barrier(2)

    def wait_after_first(v):
        if v.numpy() > 0:
            meet.wait(timeout=5)

    def mapped(s):
        tf.py_function(wait_after_first, [s], ())
        return s
    out = tf.data.Dataset.range(5).map(mapped, num_parallel_calls=tf.data.AUTOTUNE)
    assert _values(out) == [0, 1, 2, 3, 4]


def test_cache_runs_the_slow_map_once_and_vectorized_map_matches():
    calls = []

    def mapped(s):
        tf.py_function(lambda: calls.append(1) and None, [], ())
        return s
    ds = tf.data.Dataset.range(3).map(mapped).cache()
    for _ in range(5):
        assert _values(ds) == [0, 1, 2]
    assert len(calls) == 3
    scalar = tf.data.Dataset.range(600).map(lambda x: x + 1).batch(256)
    vector = tf.data.Dataset.range(600).batch(256).map(lambda x: x + 1)
    assert vector.element_spec == tf.TensorSpec(shape=(None,), dtype=tf.int64)
    assert _values(vector) == _values(scalar)
    assert _values(vector)[2] == list(range(513, 601))


def test_guide_options():
    options = tf.data.Options()
    options.experimental_optimization.map_parallelization = True
    options.experimental_deterministic = False
    options.threading.private_threadpool_size = 4
    options.threading.max_intra_op_parallelism = 1
    ds = tf.data.Dataset.range(20).map(lambda x: x * 2,
                                       num_parallel_calls=4).with_options(options)
    assert sorted(_values(ds)) == list(range(0, 40, 2))
    got = ds.options()
    assert got.experimental_deterministic is False and got.deterministic is False
    assert got.threading.private_threadpool_size == 4
    assert got.experimental_optimization.map_parallelization is True


def test_generator_timing_guide_program_runs():
    """The guide's ``ArtificialDataset`` / ``benchmark`` program: element counts."""
    class ArtificialDataset(tf.data.Dataset):
        def _generator(num_samples):
            time.sleep(0.001)
            for sample_idx in range(num_samples):
                yield (sample_idx,)

        def __new__(cls, num_samples=3):
            return tf.data.Dataset.from_generator(
                cls._generator,
                output_signature=tf.TensorSpec(shape=(1,), dtype=tf.int64),
                args=(num_samples,))

    def count(dataset, num_epochs=2):
        return sum(1 for _ in range(num_epochs) for _ in dataset)
    assert count(ArtificialDataset().prefetch(tf.data.AUTOTUNE)) == 6
    il = tf.data.Dataset.range(2).interleave(lambda _: ArtificialDataset(),
                                             num_parallel_calls=tf.data.AUTOTUNE)
    assert il.element_spec == tf.TensorSpec(shape=(1,), dtype=tf.int64)
    assert count(il) == 12
    assert sorted(np.asarray(_values(il)).reshape(-1).tolist()) == [0, 0, 1, 1, 2, 2]
