"""Parallel map and prefetch: order, concurrency, error propagation, shutdown, placement."""

import threading
import time

import numpy as np
import pytest

import dlframe as tf

Dataset = tf.data.Dataset


class _Concurrency:
    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __call__(self, x):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.01)
        with self.lock:
            self.now -= 1
        return x * 2


def test_parallel_map_keeps_order_and_runs_concurrently():
    probe = _Concurrency()
    # the map function is traced once (as TF): Python that runs per element is
    # a py_function
    ds = Dataset.range(40).map(lambda x: tf.py_function(probe, [x], tf.int64),
                               num_parallel_calls=4)
    assert list(ds.as_numpy_iterator()) == [2 * i for i in range(40)]
    assert probe.peak >= 2
    auto = Dataset.range(20).map(lambda x: x + 1, num_parallel_calls=tf.data.AUTOTUNE)
    assert list(auto.as_numpy_iterator()) == list(range(1, 21))


def test_nondeterministic_map_yields_every_element():
    def slow_first(x):
        if int(x) == 0:
            time.sleep(0.05)
        return x

    ds = Dataset.range(8).map(slow_first, num_parallel_calls=4, deterministic=False)
    out = list(ds.as_numpy_iterator())
    assert sorted(out) == list(range(8)) and out[0] != 0
    opts = tf.data.Options()
    opts.deterministic = False
    ds2 = Dataset.range(8).map(slow_first, num_parallel_calls=4).with_options(opts)
    assert sorted(ds2.as_numpy_iterator()) == list(range(8))


@pytest.mark.parametrize("parallel", [None, 3, tf.data.AUTOTUNE])
def test_map_error_propagates_and_stops(parallel):
    started = []

    def fn(x):
        started.append(int(x))
        if int(x) == 5:
            raise ValueError("bad element 5")
        return x

    it = iter(Dataset.range(1000).map(fn, num_parallel_calls=parallel).prefetch(2))
    got = []
    with pytest.raises(ValueError, match="bad element 5"):
        for x in it:
            got.append(int(x))
    assert got == [0, 1, 2, 3, 4]
    time.sleep(0.1)
    assert len(started) < 100  # the pipeline stopped instead of running on


def test_abandoned_iterators_stop_their_threads():
    before = threading.active_count()
    for _ in range(5):
        it = iter(Dataset.range(10**9).map(lambda x: x, num_parallel_calls=2).prefetch(3))
        next(it)
        it.close()
        del it
    deadline = time.time() + 3
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before


def test_generator_error_through_prefetch():
    def gen():
        yield 1
        raise RuntimeError("generator broke")

    ds = Dataset.from_generator(gen, output_signature=tf.TensorSpec((), tf.int32)).prefetch(4)
    it = iter(ds)
    assert int(next(it)) == 1
    # as TF 2.21: the generator's exception as an UnknownError naming it
    with pytest.raises(tf.errors.UnknownError, match="RuntimeError: generator broke"):
        next(it)


def test_prefetch_overlaps_and_preserves_elements():
    ds = Dataset.range(50).batch(7).prefetch(tf.data.AUTOTUNE)
    out = list(ds.as_numpy_iterator())
    assert np.concatenate(out).tolist() == list(range(50))
    assert [b.shape for b in ds][-1] == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError):
        Dataset.range(3).prefetch(-5)
    assert list(Dataset.range(3).prefetch(0).as_numpy_iterator()) == [0, 1, 2]


def test_prefetch_places_batches_on_the_iterating_device(device):
    ds = Dataset.from_tensor_slices((np.ones((6, 2), np.float32), np.arange(6))).batch(4)
    for pipeline in (ds, ds.prefetch(2)):
        x, y = next(iter(pipeline))
        want = tf.constant(0.0).device
        assert x.device == want and y.device == want


def test_map_functions_run_on_host_device(device):
    seen = []

    def fn(x):
        seen.append(x.device)
        return x + tf.constant(1, tf.int64)

    out = list(Dataset.range(3).map(fn, num_parallel_calls=2))
    assert all("CPU:0" in d for d in seen)
    assert [int(v) for v in out] == [1, 2, 3]


def test_prefetch_to_device(device):
    ds = Dataset.range(4).batch(2).apply(
        tf.data.experimental.prefetch_to_device("/CPU:0"))
    batches = list(ds)
    assert len(batches) == 2 and all("CPU:0" in b.device for b in batches)
