"""The CPU remapping pass (graph option ``remapping``): Conv -> bias add [-> Relu]
becomes ``_FusedConv2D`` and ReluGrad(MaxPoolGrad) of a ReLU output becomes
``_ReluMaxPoolGrad``; compiled results equal eager ones and the pass switched off.
"""

import numpy as np
import pytest

import dlframe as tf

RNG = np.random.default_rng(3)


@pytest.fixture
def on_host():
    """Places the test's tensors on the CPU whatever the default device: the remapping
    pass rewrites host kernels only (a GPU graph keeps its plain ops)."""
    with tf.device("/CPU:0"):
        yield


pytestmark = pytest.mark.usefixtures("on_host")


def _data(shape, dtype="float32", ties=False):
    x = RNG.standard_normal(shape)
    if ties:  # coarse values: windows with equal positive maxima
        x = np.round(x * 2) / 2
    return tf.constant(x.astype(dtype))


def _cnn_grads(pool_geo, conv_geo, relu=True, pool=True):
    """Loss and gradients of conv -> bias_add -> relu -> max pool -> sum of squares."""
    strides, padding = conv_geo
    ksize, pstrides, ppad = pool_geo

    def step(x, w, b):
        with tf.GradientTape() as tape:
            tape.watch([x, w, b])
            y = tf.nn.bias_add(tf.nn.conv2d(x, w, strides, padding), b)
            if relu:
                y = tf.nn.relu(y)
            if pool:
                y = tf.nn.max_pool2d(y, ksize, pstrides, ppad)
            loss = tf.reduce_sum(y * y * tf.cast(tf.range(tf.size(y)) % 3 - 1,
                                                 y.dtype)[:, None, None, None][:1] + y)
        return [loss, y] + tape.gradient(loss, [x, w, b])
    return step


def _compiled(fn, args, remapping=True):
    tf.config.optimizer.set_experimental_options({"remapping": remapping})
    try:
        f = tf.function(fn)
        out = f(*args)
        names = f.get_concrete_function(*args).graph.node_names
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": True})
    return [o.numpy() for o in out], names


CASES = [  # input HW, filter, conv (strides, padding), pool (ksize, strides, padding)
    ((12, 12), 3, (1, "VALID"), (2, 2, "VALID")),      # 10x10 tiled
    ((13, 11), 3, (1, "VALID"), (2, 2, "VALID")),      # 11x9: uncovered edge
    ((9, 9), 3, (2, "SAME"), (2, 2, "VALID")),         # stride-2 conv, odd sizes
    ((10, 10), 3, (1, "SAME"), (3, 2, "SAME")),        # overlapping padded windows
    ((8, 8), 1, (1, "VALID"), (2, 2, "SAME")),         # pointwise conv
]


@pytest.mark.parametrize("hw, k, conv_geo, pool_geo", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_cnn_step_matches_eager_and_unfused(hw, k, conv_geo, pool_geo, dtype):
    x = _data((5,) + hw + (3,), dtype, ties=True)
    w = _data((k, k, 3, 4), dtype)
    b = tf.constant(np.array([0.0, -0.5, 0.25, 1.0], dtype))
    fn = _cnn_grads(pool_geo, conv_geo)
    eager = [o.numpy() for o in fn(x, w, b)]
    fused, names = _compiled(fn, (x, w, b))
    plain, plain_names = _compiled(fn, (x, w, b), remapping=False)
    # the filter gradient reuses the forward's patch matrix
    assert "_FusedConv2DKeepPatches" in names and "_ReluMaxPoolGrad" in names
    assert "_Conv2DBackpropFilterFromPatches" in names
    assert not {"Relu", "ReluGrad", "Conv2DBackpropFilter"} & set(names)
    assert "_FusedConv2DKeepPatches" not in plain_names and "ReluGrad" in plain_names
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for e, f, p in zip(eager, fused, plain):
        np.testing.assert_allclose(f, p, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(f, e, rtol=rtol, atol=rtol)


def test_fused_pool_grad_keeps_first_max_on_positive_ties():
    # every window of the ReLU output holds two equal positive maxima (or is all
    # zeros): the gradient goes to the first in row-major order, as unfused
    base = np.array([[1.0, 1.0, -1.0, -2.0], [1.0, 0.5, -3.0, -1.0]], "float32")
    x = tf.constant(np.tile(base, (2, 2))[None, :, :, None])
    w = tf.constant(np.ones((1, 1, 1, 1), "float32"))
    b = tf.constant(np.zeros(1, "float32"))
    fn = _cnn_grads((2, 2, "VALID"), (1, "VALID"))
    fused, names = _compiled(fn, (x, w, b))
    plain, _ = _compiled(fn, (x, w, b), remapping=False)
    assert "_ReluMaxPoolGrad" in names
    for f, p in zip(fused, plain):
        np.testing.assert_array_equal(f, p)
    dx = fused[2][0, :, :, 0]
    assert dx[0, 0] != 0 and dx[0, 1] == 0 and dx[1, 0] == 0   # first of three
    assert (dx[:2, 2:4] == 0).all() and dx[0, 4] != 0           # all-zero window


def test_conv_bias_without_relu_and_keras_layers_fuse():
    x = _data((4, 10, 10, 2))
    model = tf.keras.Sequential([
        tf.keras.Input((10, 10, 2)), tf.keras.layers.Conv2D(3, 3, activation="relu"),
        tf.keras.layers.MaxPooling2D(), tf.keras.layers.Conv2D(2, 2),
        tf.keras.layers.Flatten(), tf.keras.layers.Dense(1)])

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(x) ** 2)
        return [loss] + tape.gradient(loss, model.trainable_variables)
    eager = [o.numpy() for o in step(x)]
    fused, names = _compiled(step, (x,))
    assert names.count("_FusedConv2DKeepPatches") == 2 and "_ReluMaxPoolGrad" in names
    assert names.count("_Conv2DBackpropFilterFromPatches") == 2
    for e, f in zip(eager, fused):
        np.testing.assert_allclose(f, e, rtol=1e-5, atol=1e-6)


def test_no_fusion_past_an_intermediate_read_elsewhere_or_returned():
    x, w = _data((2, 6, 6, 1)), _data((3, 3, 1, 2))
    b = tf.constant(np.array([0.5, -0.5], "float32"))

    def keeps_conv(x, w, b):
        y = tf.nn.conv2d(x, w, 1, "VALID")
        return tf.nn.relu(y + b), y * 2.0

    def returns_sum(x, w, b):
        s = tf.nn.conv2d(x, w, 1, "VALID") + b
        return tf.nn.relu(s), s

    for fn, fused in ((keeps_conv, False), (returns_sum, True)):
        got, names = _compiled(fn, (x, w, b))
        assert "Relu" in names and ("_FusedConv2D" in names) == fused  # bias only
        for g, e in zip(got, fn(x, w, b)):
            np.testing.assert_allclose(g, e.numpy(), rtol=1e-6)


def test_bias_assigned_between_conv_and_add_is_not_moved():
    x, w = _data((2, 6, 6, 1)), _data((3, 3, 1, 2))
    b = tf.Variable(np.array([0.5, -0.5], "float32"))

    def fn(x, w):
        y = tf.nn.conv2d(x, w, 1, "VALID")
        b.assign_add(tf.constant([1.0, 1.0]))
        return tf.nn.relu(y + b)

    expect = [fn(x, w).numpy() for _ in range(2)]   # b: 1.5, 0.5 then 2.5, 1.5
    b.assign([0.5, -0.5])
    f = tf.function(fn)
    got = [f(x, w).numpy() for _ in range(2)]
    assert f.get_concrete_function(x, w).graph.node_names == [
        "Conv2D", "AssignVariableOp", "AddV2", "Relu"]
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_large_patch_matrices_are_not_kept(monkeypatch):
    from dlframe.core import graph_passes
    monkeypatch.setattr(graph_passes, "KEEP_PATCHES_MAX_BYTES", 1000)
    x, w = _data((2, 8, 8, 3)), _data((3, 3, 3, 4))
    b = tf.constant(np.zeros(4, "float32"))
    fn = _cnn_grads((2, 2, "VALID"), (1, "VALID"))
    got, names = _compiled(fn, (x, w, b))
    assert "_FusedConv2D" in names and "Conv2DBackpropFilter" in names
    for g, e in zip(got, fn(x, w, b)):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)


def test_fused_step_trains_like_the_unfused_one():
    def run(remapping):
        tf.keras.utils.set_random_seed(1)
        tf.config.optimizer.set_experimental_options({"remapping": remapping})
        try:
            model = tf.keras.Sequential([
                tf.keras.Input((12, 12, 1)),
                tf.keras.layers.Conv2D(4, 3, activation="relu"),
                tf.keras.layers.MaxPooling2D(), tf.keras.layers.Flatten(),
                tf.keras.layers.Dense(2)])
            loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            model.compile(tf.keras.optimizers.Adam(0.01), loss)
            rng = np.random.default_rng(0)
            xs = rng.random((64, 12, 12, 1)).astype("float32")
            ys = (xs[:, :6].mean(axis=(1, 2, 3)) > xs[:, 6:].mean(axis=(1, 2, 3)))
            hist = model.fit(xs, ys.astype("int64"), batch_size=16, epochs=15,
                             verbose=0, shuffle=False)
        finally:
            tf.config.optimizer.set_experimental_options({"remapping": True})
        return hist.history["loss"]
    fused, plain = run(True), run(False)
    np.testing.assert_allclose(fused, plain, rtol=1e-4)
    assert fused[-1] < 0.8 * fused[0]


def test_patches_shared_only_with_the_same_filter_size():
    # stride 2 on 10x10: 3x4 and 4x3 filters both give 4x4 outputs and 12-tap
    # patches of the same input, yet different ones
    x = _data((2, 10, 10, 2))
    w_a, w_b = _data((3, 4, 2, 3)), _data((4, 3, 2, 3))
    b = tf.constant(np.zeros(3, "float32"))

    def fn(x, w_a, w_b, b):
        with tf.GradientTape() as tape:
            tape.watch([w_a, w_b])
            ya = tf.nn.relu(tf.nn.conv2d(x, w_a, 2, "VALID") + b)
            yb = tf.nn.relu(tf.nn.conv2d(x, w_b, 2, "VALID") + b)
            loss = tf.reduce_sum(ya * yb + ya)
        return [loss] + tape.gradient(loss, [w_a, w_b])
    got, names = _compiled(fn, (x, w_a, w_b, b))
    assert names.count("_Conv2DBackpropFilterFromPatches") == 2
    for g, e in zip(got, fn(x, w_a, w_b, b)):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fits", [True, False])
def test_grouped_conv_patch_size_counts_every_input_channel(monkeypatch, fits):
    # groups=8: the patch matrix has K*C columns (C=8), not K*C/G (review round 14)
    from dlframe.core import graph_passes
    x, w = _data((2, 8, 8, 8)), _data((3, 3, 1, 8))
    b = tf.constant(np.zeros(8, "float32"))
    patch_bytes = 2 * 6 * 6 * 9 * 8 * 4
    monkeypatch.setattr(graph_passes, "KEEP_PATCHES_MAX_BYTES",
                        patch_bytes if fits else patch_bytes - 1)

    def step(x, w, b):
        with tf.GradientTape() as tape:
            tape.watch([w, b])
            loss = tf.reduce_sum(tf.nn.relu(tf.nn.conv2d(x, w, 1, "VALID") + b) ** 2)
        return [loss] + tape.gradient(loss, [w, b])
    got, names = _compiled(step, (x, w, b))
    assert ("_Conv2DBackpropFilterFromPatches" in names) == fits
    assert ("Conv2DBackpropFilter" in names) != fits
    for g, e in zip(got, step(x, w, b)):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-5)


def test_bias_assigned_in_a_cond_between_conv_and_add_is_read_after_it():
    x, w = _data((2, 6, 6, 1)), _data((3, 3, 1, 2))
    b = tf.Variable(np.array([0.5, -0.5], "float32"))

    def fn(x, flag):
        y = tf.nn.conv2d(x, w, 1, "VALID")
        if flag > 0:
            b.assign_add([10.0, 10.0])
        return tf.nn.relu(y + b)
    expect = np.maximum(tf.nn.conv2d(x, w, 1, "VALID").numpy() + [10.5, 9.5], 0)
    got = tf.function(fn)(x, tf.constant(1)).numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-6)
