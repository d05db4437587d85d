"""Review of session 22 (keras, data, train, autograph, lite): regressions found."""

import numpy as np

import dlframe as tf


def test_reduce_in_function_relaxes_a_growing_state_as_tf():
    # TF's ReduceDataset relaxes the state's shape ([0] then [1]: [None]); the graph
    # loop that reduce became inside a function refused it (shape invariant error)
    ds = tf.data.Dataset.range(4)

    @tf.function
    def f(n):
        grown = ds.reduce(tf.zeros([0], tf.int64),
                          lambda s, x: tf.concat([s, [x + n]], 0))
        fixed = ds.reduce({"v": tf.zeros([3]), "c": tf.constant(0, tf.int64)},
                          lambda s, x: {"v": s["v"] + 1.0, "c": s["c"] + x})
        return grown, fixed

    grown, fixed = f(tf.constant(10, tf.int64))
    np.testing.assert_array_equal(grown.numpy(), [10, 11, 12, 13])
    np.testing.assert_array_equal(fixed["v"].numpy(), [4.0, 4.0, 4.0])
    assert int(fixed["c"]) == 6
    grown, _ = f(tf.constant(-1, tf.int64))   # the next call's values, not the trace's
    np.testing.assert_array_equal(grown.numpy(), [-1, 0, 1, 2])

    concrete = f.get_concrete_function(tf.TensorSpec([], tf.int64))
    grown_spec, fixed_spec = concrete.structured_outputs
    assert grown_spec.shape.as_list() == [None]   # TF: TensorShape([None])
    assert fixed_spec["v"].shape.as_list() == [3]
    assert fixed_spec["c"].shape.as_list() == []


def test_reduce_in_function_keeps_a_tensor_array_state():
    ds = tf.data.Dataset.range(4)

    @tf.function
    def f():
        ta = ds.reduce(tf.TensorArray(tf.int64, size=0, dynamic_size=True),
                       lambda t, x: t.write(tf.cast(x, tf.int32), x * 2))
        return ta.stack()

    np.testing.assert_array_equal(f().numpy(), [0, 2, 4, 6])


def _embedding_steps(opt, loss_scale):
    v = tf.Variable(np.arange(8, dtype="float32").reshape(4, 2) / 10)
    w = tf.Variable(np.ones(2, dtype="float32"))
    for _ in range(2):
        with tf.GradientTape() as tape:
            rows = tf.gather(v, tf.constant([1, 1, 3]))   # IndexedSlices, repeated id
            loss = (tf.reduce_sum(rows * rows * 3.0) + tf.reduce_sum(w * w)) * loss_scale
        opt.apply_gradients(zip(tape.gradient(loss, [v, w]), [v, w]))
    return v.numpy(), w.numpy()


def test_loss_scale_factor_unscales_before_clipping_slices_and_dense():
    # Keras 3 divides by loss_scale_factor, then clips; with an IndexedSlices among
    # the gradients the row clipping ran on the still-scaled gradients (dense ones too)
    for clip in ({"clipvalue": 0.3}, {"clipnorm": 0.5}, {"global_clipnorm": 0.7}):
        for make in (tf.keras.optimizers.SGD, tf.keras.optimizers.Adam):
            scaled = _embedding_steps(make(0.1, loss_scale_factor=4.0, **clip), 4.0)
            plain = _embedding_steps(make(0.1, **clip), 1.0)
            for a, b in zip(scaled, plain):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the dense gradient's figure as TF 2.21 (SGD, clipvalue 0.3, factor 4, 2 steps)
    _, w = _embedding_steps(tf.keras.optimizers.SGD(0.1, loss_scale_factor=4.0,
                                                    clipvalue=0.3), 4.0)
    np.testing.assert_allclose(w, [0.94, 0.94], rtol=1e-6)
