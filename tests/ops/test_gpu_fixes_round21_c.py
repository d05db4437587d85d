"""GPU fixes of round 21 (segments, scatters, samplers, embeddings, ragged input,
lookup layers in functions): each result is checked against NumPy on every device
of the ``device`` fixture (cpu:0 always, gpu:0 where there is one)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.backends.sorted_scatter import scatter_extreme_sorted

# float64 values whose float32 roundings differ from them: a max computed in float32
# precision (CuPy 14.2's float64 atomics) cannot pass for the exact one
PRECISE = np.array([0.1234567890123456, 0.9876543210123457, -0.3333333333333333,
                    0.7777777777777777, -0.5555555555555556, 0.2222222222222222])


@pytest.mark.parametrize("largest", [True, False])
def test_sorted_scatter_matches_ufunc_at(largest):
    rng = np.random.default_rng(0)
    ufunc = np.maximum if largest else np.minimum
    cases = [
        ((5,), np.array([0, 3, 3, -1, 0, 3]), rng.standard_normal(6)),
        ((4, 3), np.array([1, 1, 2, 1]), rng.standard_normal((4, 3))),
        ((3, 2, 2), (np.array([0, 2, 0]), np.array([1, 1, 1])),
         rng.standard_normal((3, 2))),
        ((3, 2), np.array([2, 2]), np.array([np.nan, 1.0])),   # NaN wins, as in .at
        ((3,), np.array([], np.int64), np.array([])),
    ]
    for shape, index, values in cases:
        target = rng.standard_normal(shape)
        want = target.copy()
        ufunc.at(want, index, values)
        scatter_extreme_sorted(np, target, index, values, largest)
        np.testing.assert_array_equal(target, want)


@pytest.mark.parametrize("kind", ["max", "min"])
def test_float64_segment_extremes_are_exact(device, kind):
    ids = np.array([0, 0, 2, 2, 2, 0], np.int32)
    data = np.stack([PRECISE, PRECISE[::-1]], axis=1)
    got = getattr(tf.math, f"unsorted_segment_{kind}")(tf.constant(data), ids, 3)
    ufunc = np.maximum if kind == "max" else np.minimum
    init = np.finfo(np.float64).min if kind == "max" else np.finfo(np.float64).max
    want = np.full((3, 2), init)
    ufunc.at(want, ids, data)
    np.testing.assert_array_equal(got.numpy(), want)
    # the gradient goes to the winners: it needs the output to equal them exactly
    x = tf.constant(PRECISE)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(getattr(tf.math, f"segment_{kind}")(x, [0, 0, 0, 1, 1, 1]))
    pick = np.argmax if kind == "max" else np.argmin
    want_grad = np.zeros(6)
    want_grad[pick(PRECISE[:3])] = want_grad[3 + pick(PRECISE[3:])] = 1.0
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), want_grad)


@pytest.mark.parametrize("kind", ["max", "min"])
def test_float64_tensor_and_variable_scatter_extremes(device, kind):
    base = np.zeros((4, 2))
    idx = np.array([[0], [3], [0]])
    upd = PRECISE.reshape(3, 2)
    want = base.copy()
    (np.maximum if kind == "max" else np.minimum).at(want, idx[:, 0], upd)
    got = getattr(tf, f"tensor_scatter_nd_{kind}")(tf.constant(base), idx, upd)
    np.testing.assert_array_equal(got.numpy(), want)
    var = tf.Variable(base)
    getattr(var, f"scatter_nd_{kind}")(idx, tf.constant(upd))
    np.testing.assert_array_equal(var.numpy(), want)


@pytest.mark.parametrize("sampler", ["log_uniform", "uniform", "fixed_unigram"])
@pytest.mark.parametrize("unique", [True, False])
def test_candidate_samplers_run_on_the_device(device, sampler, unique):
    fn = getattr(tf.random, f"{sampler}_candidate_sampler")
    extra = {"unigrams": [1.0] * 10} if sampler == "fixed_unigram" else {}
    sampled, true_exp, sampled_exp = fn(tf.constant([[1, 2]], tf.int64), 2, 5, unique,
                                        10, seed=3, **extra)
    values = sampled.numpy()
    assert sampled.device == true_exp.device == sampled_exp.device
    assert values.shape == (5,) and ((values >= 0) & (values < 10)).all()
    if unique:
        assert len(set(values.tolist())) == 5
    assert np.isfinite(true_exp.numpy()).all() and (sampled_exp.numpy() > 0).all()


def test_embedding_lookup_takes_ids_from_another_device(device):
    table = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    params = tf.Variable(table)
    with tf.device("cpu:0"):
        ids = tf.constant([4, 0, 4])
    with tf.GradientTape() as tape:
        rows = tf.nn.embedding_lookup(params, ids)
        loss = tf.reduce_sum(rows)
    np.testing.assert_array_equal(rows.numpy(), table[[4, 0, 4]])
    assert rows.device == params.device
    grad = tf.convert_to_tensor(tape.gradient(loss, params)).numpy()
    np.testing.assert_array_equal(grad[:, 0], [1, 0, 0, 0, 2, 0])


def test_ragged_dataset_elements_live_on_one_device(device):
    ds = tf.data.Dataset.from_tensor_slices(
        tf.ragged.constant([[1, 2], [3], [4, 5, 6]])).batch(3)
    element = next(iter(ds))
    here = tf.constant(0).device   # the device the iterator places elements on
    assert element.flat_values.device == element.row_splits.device == here
    np.testing.assert_array_equal(element.to_tensor().numpy(),
                                  [[1, 2, 0], [3, 0, 0], [4, 5, 6]])


def test_lookup_layers_in_a_function_read_the_run_time_ids(device):
    invert = keras.layers.StringLookup(vocabulary=list("abc"), invert=True,
                                       mask_token=None)
    ints = keras.layers.IntegerLookup(vocabulary=[7, 8, 9])

    @tf.function
    def f(logits, keys):
        return invert(tf.argmax(logits, -1)), ints(keys)

    for row, keys in [([0., 5., 1.], [9, 7]), ([0., 1., 5.], [8, 8]),
                      ([5., 0., 1.], [7, 5]), ([0., 0., 9.], [9, 9])]:
        words, found = f(tf.constant([row]), tf.constant(keys, tf.int64))
        vocab = [b"[UNK]", b"a", b"b", b"c"]
        assert words.numpy().tolist() == [vocab[int(np.argmax(row))]]
        np.testing.assert_array_equal(found.numpy(),
                                      [{7: 1, 8: 2, 9: 3}.get(k, 0) for k in keys])
