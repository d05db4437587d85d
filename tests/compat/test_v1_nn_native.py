"""tf.compat.v1.nn's native-op names: convolution backprops, depthwise *_native,
fused_batch_norm, TF1 CTC, candidate samplers and the quantized ops.

References are NumPy; the CTC and quantized numbers marked so came from TF 2.21.
"""

import itertools

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad, check_op

v1 = tf.compat.v1
RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- NumPy convolution
def _taps(xpad, ksize, strides, dils, out_sp):
    """(tap index, strided view of the padded input seen by that tap) pairs."""
    for tap in itertools.product(*[range(k) for k in ksize]):
        index = (slice(None),) + tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s)
            for t, d, s, o in zip(tap, dils, strides, out_sp)) + (slice(None),)
        yield tap, index


def _geometry(in_sp, ksize, strides, dils, pads):
    return [(n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, s, d, (lo, hi) in
            zip(in_sp, ksize, strides, dils, pads)]


def np_filter_grad(x, fshape, dy, strides, pads, dils):
    r = len(fshape) - 2
    xpad = np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),))
    out_sp = _geometry(x.shape[1:-1], fshape[:r], strides, dils, pads)
    dw = np.zeros(fshape)
    for tap, index in _taps(xpad, fshape[:r], strides, dils, out_sp):
        dw[tap] = xpad[index].reshape(-1, x.shape[-1]).T @ dy.reshape(-1, fshape[-1])
    return dw


def np_input_grad(in_shape, w, dy, strides, pads, dils):
    r = w.ndim - 2
    padded = [n + lo + hi for n, (lo, hi) in zip(in_shape[1:-1], pads)]
    dxpad = np.zeros([in_shape[0]] + padded + [in_shape[-1]])
    out_sp = dy.shape[1:-1]
    for tap, index in _taps(dxpad, w.shape[:r], strides, dils, out_sp):
        dxpad[index] += dy @ w[tap].T
    crop = (slice(None),) + tuple(slice(lo, lo + n) for (lo, _), n in
                                  zip(pads, in_shape[1:-1])) + (slice(None),)
    return dxpad[crop]


def _same_pads(in_sp, ksize, strides, dils):
    pads = []
    for n, k, s, d in zip(in_sp, ksize, strides, dils):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


CONV2D_CASES = [   # (input shape, filter shape, strides, padding, dilations)
    ((2, 5, 6, 3), (3, 2, 3, 4), (1, 1), "VALID", (1, 1)),
    ((2, 5, 6, 3), (3, 3, 3, 2), (2, 2), "SAME", (1, 1)),
    ((1, 7, 7, 2), (2, 3, 2, 3), (1, 1), "SAME", (2, 1)),
    ((1, 5, 4, 2), (2, 2, 2, 2), (2, 1), [[0, 0], [1, 0], [0, 2], [0, 0]], (1, 1)),
]


def _pads(case):
    in_shape, fshape, strides, padding, dils = case
    if padding == "VALID":
        return [(0, 0)] * 2
    if padding == "SAME":
        return _same_pads(in_shape[1:3], fshape[:2], strides, dils)
    return [tuple(p) for p in padding[1:3]]


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_backprop_filter_and_input(case):
    in_shape, fshape, strides, padding, dils = case
    pads = _pads(case)
    out_sp = _geometry(in_shape[1:3], fshape[:2], strides, dils, pads)
    x = RNG.standard_normal(in_shape)
    dy = RNG.standard_normal((in_shape[0], *out_sp, fshape[-1]))
    w = RNG.standard_normal(fshape)
    four = [1, *strides, 1]
    dil4 = [1, *dils, 1]
    check_op(lambda x, dy: v1.nn.conv2d_backprop_filter(x, fshape, dy, four, padding,
                                                        dilations=dil4),
             [x, dy], lambda x, dy: np_filter_grad(x, fshape, dy, strides, pads, dils),
             rtol=1e-10, atol=1e-10)
    check_op(lambda w, dy: v1.nn.conv2d_backprop_input(in_shape, w, dy, four, padding,
                                                       dilations=dil4),
             [w, dy], lambda w, dy: np_input_grad(in_shape, w, dy, strides, pads, dils),
             rtol=1e-10, atol=1e-10)
    # they are conv2d's gradients
    xt, wt = tf.constant(x), tf.Variable(w)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.nn.conv2d(xt, wt, four, padding, dilations=dil4)
        total = tf.reduce_sum(y * dy)
    gx, gw = tape.gradient(total, [xt, wt])
    np.testing.assert_allclose(
        v1.nn.conv2d_backprop_filter(x, fshape, dy, four, padding,
                                     dilations=dil4).numpy(), gw.numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        v1.nn.conv2d_backprop_input(in_shape, filters=w, out_backprop=dy, strides=four,
                                    padding=padding, dilations=dil4).numpy(),
        gx.numpy(), rtol=1e-10)


def test_conv2d_backprop_nchw_and_v2_names():
    x = RNG.standard_normal((2, 5, 6, 3))
    dy = RNG.standard_normal((2, 3, 3, 4))
    w = RNG.standard_normal((3, 3, 3, 4))
    nhwc = v1.nn.conv2d_backprop_filter(x, [3, 3, 3, 4], dy, [1, 2, 2, 1], "SAME")
    nchw = v1.nn.conv2d_backprop_filter(np.transpose(x, (0, 3, 1, 2)), [3, 3, 3, 4],
                                        np.transpose(dy, (0, 3, 1, 2)), [1, 1, 2, 2],
                                        "SAME", data_format="NCHW")
    np.testing.assert_allclose(nchw.numpy(), nhwc.numpy(), rtol=1e-10)
    # TF2's top-level raw-op forms take shapes from tensors and EXPLICIT padding
    explicit = [0, 0, 1, 1, 0, 1, 0, 0]
    v2f = tf.conv2d_backprop_filter_v2(x, w, dy, [1, 2, 2, 1], "EXPLICIT",
                                       explicit_paddings=explicit)
    ref = np_filter_grad(x, w.shape, dy, (2, 2), [(1, 1), (0, 1)], (1, 1))
    np.testing.assert_allclose(v2f.numpy(), ref, rtol=1e-10)
    v2i = tf.conv2d_backprop_input_v2(x, w, dy, [1, 2, 2, 1], "EXPLICIT",
                                      explicit_paddings=explicit)
    ref = np_input_grad(x.shape, w, dy, (2, 2), [(1, 1), (0, 1)], (1, 1))
    np.testing.assert_allclose(v2i.numpy(), ref, rtol=1e-10)
    with pytest.raises(ValueError, match="filter_sizes"):
        v1.nn.conv2d_backprop_filter(x, [3, 3, 4], dy, [1, 2, 2, 1], "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
        v1.nn.conv2d_backprop_filter(x, [3, 3, 3, 4], dy, [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="filter"):
        v1.nn.conv2d_backprop_input(x.shape, out_backprop=dy, strides=[1, 2, 2, 1],
                                    padding="SAME")


def test_conv3d_backprop_filter():
    x = RNG.standard_normal((1, 4, 5, 4, 2))
    fshape = (2, 3, 2, 2, 3)
    dy = RNG.standard_normal((1, 2, 5, 2, 3))
    pads = _same_pads((4, 5, 4), (2, 3, 2), (2, 1, 2), (1, 1, 1))
    check_op(lambda x, dy: v1.nn.conv3d_backprop_filter(x, fshape, dy,
                                                        [1, 2, 1, 2, 1], "SAME"),
             [x, dy],
             lambda x, dy: np_filter_grad(x, fshape, dy, (2, 1, 2), pads, (1, 1, 1)),
             rtol=1e-10, atol=1e-10)
    assert v1.nn.conv3d_backprop_filter_v2 is v1.nn.conv3d_backprop_filter


def np_depthwise(x, w, strides, pads):
    xpad = np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),))
    out_sp = _geometry(x.shape[1:3], w.shape[:2], strides, (1, 1), pads)
    y = np.zeros((x.shape[0], *out_sp, w.shape[2], w.shape[3]))
    for tap, index in _taps(xpad, w.shape[:2], strides, (1, 1), out_sp):
        y += xpad[index][..., None] * w[tap]
    return y.reshape(*y.shape[:3], -1)


def test_depthwise_native_family():
    x = RNG.standard_normal((2, 5, 5, 3))
    w = RNG.standard_normal((3, 3, 3, 2))
    pads = _same_pads((5, 5), (3, 3), (2, 2), (1, 1))
    check_op(lambda x, w: v1.nn.depthwise_conv2d_native(x, w, [1, 2, 2, 1], "SAME"),
             [x, w], lambda x, w: np_depthwise(x, w, (2, 2), pads), rtol=1e-10,
             atol=1e-10)
    dy = RNG.standard_normal((2, 3, 3, 6))
    xt, wt = tf.constant(x), tf.Variable(w)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(v1.nn.depthwise_conv2d_native(xt, wt, [1, 2, 2, 1],
                                                            "SAME") * dy)
    gx, gw = tape.gradient(total, [xt, wt])
    dw = v1.nn.depthwise_conv2d_native_backprop_filter(x, [3, 3, 3, 2], dy,
                                                       [1, 2, 2, 1], "SAME")
    dx = v1.nn.depthwise_conv2d_native_backprop_input([2, 5, 5, 3], w, dy,
                                                      [1, 2, 2, 1], "SAME")
    np.testing.assert_allclose(dw.numpy(), gw.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dx.numpy(), gx.numpy(), rtol=1e-10)


# ---------------------------------------------------------------- fused_batch_norm
def test_fused_batch_norm_training_and_inference():
    x = RNG.standard_normal((2, 3, 3, 2)).astype(np.float32)
    scale, offset = np.array([1.5, 0.5], np.float32), np.array([0.1, -0.2], np.float32)
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    y, bm, bv = v1.nn.fused_batch_norm(x, scale, offset)
    np.testing.assert_allclose(y.numpy(), (x - mean) / np.sqrt(var + 1e-3) * scale
                               + offset, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bm.numpy(), mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bv.numpy(), x.var((0, 1, 2), ddof=1), rtol=1e-5)
    # running averages (values as TF 2.21 returns them)
    ones = np.ones(2, np.float32)
    _, rm, rv = v1.nn.fused_batch_norm(x, ones, ones * 0, mean=ones, variance=ones,
                                       exponential_avg_factor=0.1)
    np.testing.assert_allclose(rm.numpy(), 0.9 + 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * x.var((0, 1, 2), ddof=1),
                               rtol=1e-6)
    yi, _im, iv = v1.nn.fused_batch_norm(x, ones, ones * 0, mean=ones,
                                        variance=ones * 2, is_training=False)
    np.testing.assert_allclose(yi.numpy(), (x - 1) / np.sqrt(2 + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(iv.numpy(), [2, 2])
    nchw, _, _ = v1.nn.fused_batch_norm(np.transpose(x, (0, 3, 1, 2)), scale, offset,
                                        data_format="NCHW")
    np.testing.assert_allclose(np.transpose(nchw.numpy(), (0, 2, 3, 1)), y.numpy(),
                               rtol=1e-5, atol=1e-6)
    yh, mh, _ = v1.nn.fused_batch_norm(x.astype(np.float16), ones, ones * 0)
    assert yh.dtype == tf.float16 and mh.dtype == tf.float32
    with pytest.raises(ValueError, match="must be a 1D tensor"):
        v1.nn.fused_batch_norm(x, ones, ones, is_training=False)
    with pytest.raises(ValueError, match="data_format"):
        v1.nn.fused_batch_norm(x, ones, ones, data_format="NWC")


def test_fused_batch_norm_gradient():
    x = RNG.standard_normal((2, 2, 2, 3))
    scale, offset = RNG.standard_normal(3), RNG.standard_normal(3)
    check_grad(lambda x, s, o: v1.nn.fused_batch_norm(x, s, o)[0], [x, scale, offset],
               rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- CTC and samplers
def test_ctc_v1_and_v2_names():
    logits = np.random.default_rng(1).standard_normal((6, 2, 4)).astype(np.float32)
    labels = tf.SparseTensor([[0, 0], [0, 1], [0, 2], [1, 0]], [1, 1, 2, 0], [2, 3])
    seq = np.array([6, 5], np.int32)
    # TF 2.21: blank is the last class
    np.testing.assert_allclose(v1.nn.ctc_loss(labels, logits, seq).numpy(),
                               [4.0142684, 5.1172442], rtol=1e-5)
    np.testing.assert_allclose(
        v1.nn.ctc_loss(labels, logits, seq, preprocess_collapse_repeated=True).numpy(),
        [4.0305896, 5.1172442], rtol=1e-5)
    np.testing.assert_allclose(
        v1.nn.ctc_loss(labels, logits, np.array([6, 0], np.int32),
                       ignore_longer_outputs_than_inputs=True).numpy(),
        [4.0142684, 0.0], rtol=1e-5)
    dense = [[1, 1, 2], [0, 0, 0]]
    np.testing.assert_allclose(
        v1.nn.ctc_loss_v2(dense, logits, [3, 1], seq, blank_index=-1).numpy(),
        [4.0142684, 5.1172442], rtol=1e-5)
    with pytest.raises(TypeError, match="SparseTensor"):
        v1.nn.ctc_loss(dense, logits, seq)
    probs = np.array([[.1, .8, .1], [.1, .8, .1], [.8, .1, .1], [.1, .8, .1],
                      [.1, .1, .8], [.1, .8, .1]])
    lg = np.log(probs)[:, None, :].astype(np.float32)
    for merge, first in ((True, [1, 0, 1]), (False, [1, 0, 1, 1])):   # TF 2.21
        decoded, log_probs = v1.nn.ctc_beam_search_decoder(
            lg, [6], beam_width=5, top_paths=2, merge_repeated=merge)
        assert tf.sparse.to_dense(decoded[0]).numpy().tolist() == [first]
        assert tf.sparse.to_dense(decoded[1]).numpy().tolist() == [[1, 0, 1]]
        np.testing.assert_allclose(log_probs.numpy(), [[-1.0091081, -1.4955692]],
                                   rtol=1e-5)
    decoded, _ = v1.nn.ctc_beam_search_decoder_v2(lg, [6], beam_width=5)
    assert tf.sparse.to_dense(decoded[0]).numpy().tolist() == [[1, 0, 1, 1]]


@pytest.mark.parametrize("name", ["log_uniform_candidate_sampler",
                                  "uniform_candidate_sampler"])
def test_candidate_samplers(name):
    true = np.array([[1], [4]], np.int64)
    sampled, true_expected, sampled_expected = getattr(v1.nn, name)(
        true, 1, 6, True, 20, seed=3)
    values = sampled.numpy()
    assert values.shape == (6,) and len(set(values.tolist())) == 6
    assert values.min() >= 0 and values.max() < 20
    assert tuple(true_expected.shape) == (2, 1) and tuple(sampled_expected.shape) == (6,)


# ---------------------------------------------------------------- quantized ops
def test_quantized_pools_relu_and_conv():
    data = np.random.default_rng(0).integers(0, 256, (1, 4, 4, 2)).astype(np.uint8)
    avg, lo, hi = v1.nn.quantized_avg_pool(data, -1.0, 2.0, [1, 2, 2, 1], [1, 2, 2, 1],
                                           "SAME")
    assert avg.dtype == tf.uint8 and float(lo) == -1.0 and float(hi) == 2.0
    ref = data.reshape(1, 2, 2, 2, 2, 2).mean((2, 4))
    np.testing.assert_array_equal(avg.numpy(), np.floor(ref + 0.5))
    mx, _, _ = v1.nn.quantized_max_pool(data, -1.0, 2.0, [1, 2, 2, 1], [1, 1, 1, 1],
                                        "VALID")
    ref = np.max([data[:, i:i + 3, j:j + 3] for i in (0, 1) for j in (0, 1)], axis=0)
    np.testing.assert_array_equal(mx.numpy(), ref)
    # range [-2, 6]: 0.0 is the integer 64 and 3.0 is 160
    relu, lo, hi = v1.nn.quantized_relu_x(data, 3.0, -2.0, 6.0)
    np.testing.assert_array_equal(relu.numpy(), np.clip(data, 64, 160))
    assert (float(lo), float(hi)) == (-2.0, 6.0)
    filt = np.random.default_rng(1).integers(0, 256, (2, 2, 2, 3)).astype(np.uint8)
    out, lo, hi = v1.nn.quantized_conv2d(data, filt, -1.0, 2.0, -0.5, 0.5,
                                         [1, 1, 1, 1], "SAME")
    # zero points: 0.0 is 85 in [-1, 2] and 128 in [-0.5, 0.5]
    ref = tf.nn.conv2d(data.astype(np.float64) - 85, filt.astype(np.float64) - 128, 1,
                       "SAME").numpy()
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_allclose([float(lo), float(hi)], [-99076.53, 99076.53],
                               rtol=1e-7)   # TF 2.21
    with pytest.raises(TypeError, match="quantized values"):
        v1.nn.quantized_max_pool(data.astype(np.float32), -1.0, 2.0, [1, 2, 2, 1],
                                 [1, 2, 2, 1], "SAME")


def test_experimental_dropouts():
    x = tf.ones([3, 4])
    out = v1.nn.experimental.stateless_dropout(x, 0.5, seed=[1, 2])
    np.testing.assert_array_equal(out.numpy(), [[2, 0, 2, 0], [0, 2, 0, 0],
                                                [0, 0, 0, 0]])   # TF 2.21
    out = v1.nn.experimental.stateless_dropout(x, 0.5, seed=[1, 2], noise_shape=[3, 1])
    np.testing.assert_array_equal(out.numpy()[:, 0], [2, 0, 2])   # TF 2.21
    keep = v1.nn.experimental.general_dropout(
        x, 0.5, lambda shape, dtype: tf.fill(shape, tf.constant(0.6, dtype)))
    drop = v1.nn.experimental.general_dropout(
        x, 0.5, lambda shape, dtype: tf.fill(shape, tf.constant(0.4, dtype)))
    assert keep.numpy().tolist() == [[2.0] * 4] * 3 and not drop.numpy().any()
    with pytest.raises(ValueError, match="rate"):
        v1.nn.experimental.stateless_dropout(x, 1.0, seed=[1, 2])
