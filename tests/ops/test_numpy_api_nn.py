"""keras.ops nn / conv / core / math / image against NumPy references (and values
taken from TF 2.21 / Keras 3 where noted), gradients, eager == function."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import ops
from tests.helpers import check_function_matches_eager, check_grad, check_op

RNG = np.random.default_rng(2)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATIONS = [
    ("relu", lambda x: np.maximum(x, 0)),
    ("relu6", lambda x: np.clip(x, 0, 6)),
    ("sigmoid", _sigmoid),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("silu", lambda x: x * _sigmoid(x)),
    ("swish", lambda x: x * _sigmoid(x)),
    ("log_sigmoid", lambda x: np.log(_sigmoid(x))),
    ("elu", lambda x: np.where(x > 0, x, np.expm1(x))),
    ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                      * np.expm1(x))),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
    ("gelu", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi)
                                              * (x + 0.044715 * x ** 3)))),
    ("hard_sigmoid", lambda x: np.clip(x + 3, 0, 6) / 6),
    ("hard_silu", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("celu", lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x))),
    ("squareplus", lambda x: (x + np.sqrt(x * x + 4)) / 2),
    ("tanh_shrink", lambda x: x - np.tanh(x)),
    ("softmax", _softmax),
    ("log_softmax", lambda x: np.log(_softmax(x))),
]


@pytest.mark.parametrize("name,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations(name, ref):
    x = RNG.standard_normal((3, 5)) * 2
    x[np.abs(x) < 0.05] = 0.3   # keep finite differences away from kinks
    x[np.abs(np.abs(x) - 3) < 0.05] = 2.5
    check_op(getattr(ops, name), [x], ref, grad_rtol=1e-4, grad_atol=1e-6)


def test_activation_options_and_tf_values():
    x = np.array([-1.0, 0.5, 2.0])
    # values from TF 2.21 / Keras 3
    np.testing.assert_allclose(ops.gelu(x).numpy(),
                               [-0.15880800972132364, 0.3457140097922433,
                                1.9545976932119538], rtol=1e-6)
    np.testing.assert_allclose(ops.gelu(x, approximate=False).numpy(),
                               [-0.15865525807260966, 0.3457312291306712,
                                1.9544997324075772], rtol=1e-6)
    np.testing.assert_allclose(ops.celu(np.array([-1.0, 1.0]), 2.0).numpy(),
                               [-0.7869386805747332, 1.0])
    np.testing.assert_allclose(ops.elu(np.array([-1.0, 1.0]), 2.0).numpy(),
                               [-1.2642411176571153, 1.0])
    np.testing.assert_allclose(ops.leaky_relu(x, negative_slope=0.1).numpy(),
                               [-0.1, 0.5, 2.0])
    np.testing.assert_allclose(ops.hard_shrink(x, 0.7).numpy(), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(ops.soft_shrink(x, 0.7).numpy(), [-0.3, 0.0, 1.3])
    np.testing.assert_allclose(ops.threshold(x, 0.0, -5.0).numpy(), [-5.0, 0.5, 2.0])
    np.testing.assert_allclose(ops.glu(np.array([[1.0, 2.0, 0.0, 3.0]])).numpy(),
                               [[0.5, 2 * _sigmoid(3.0)]])
    y = RNG.standard_normal((2, 3, 4))
    np.testing.assert_allclose(ops.softmax(y, axis=(1, 2)).numpy(),
                               np.exp(y) / np.exp(y).sum(axis=(1, 2), keepdims=True))
    assert ops.relu(np.array([1, -2])).dtype == tf.int64   # ints kept (TF 2.21)


def test_encodings():
    # from TF 2.21 / Keras 3
    assert ops.one_hot(np.array([0, -1, 3]), 3).numpy().tolist() == [
        [1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert ops.one_hot(np.array([1]), 2).dtype == tf.float32
    assert ops.multi_hot(np.array([[0, 2], [1, 1]]), 4).numpy().tolist() == [
        [1, 0, 1, 0], [0, 1, 0, 0]]
    assert ops.multi_hot(np.array([0, 2]), 3).numpy().tolist() == [1, 0, 1]
    np.testing.assert_array_equal(ops.one_hot(np.array([[1, 0]]), 3, axis=0).numpy(),
                                  np.eye(3)[[[1, 0]]].transpose(2, 0, 1))


def test_normalizations():
    x = RNG.standard_normal((4, 3))
    mean, var = ops.moments(x, axes=[0])
    np.testing.assert_allclose(mean.numpy(), x.mean(0))
    np.testing.assert_allclose(var.numpy(), x.var(0))
    m, _v = ops.moments(x, 1, keepdims=True)
    assert m.shape == (4, 1)
    gamma, beta = RNG.random(3), RNG.random(3)
    out = ops.batch_normalization(x, x.mean(0), x.var(0), axis=1, offset=beta,
                                  scale=gamma, epsilon=1e-3)
    np.testing.assert_allclose(out.numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
                               * gamma + beta)
    np.testing.assert_allclose(ops.normalize(np.array([[3.0, 4.0]])).numpy(),
                               [[0.6, 0.8]])
    # from TF 2.21 / Keras 3
    np.testing.assert_allclose(ops.layer_normalization(np.array([[1.0, 2.0, 4.0]]))
                               .numpy(), [[-1.0690449, -0.2672612, 1.3363062]], rtol=1e-6)
    rms = ops.rms_normalization(x, scale=2.0)
    np.testing.assert_allclose(rms.numpy(), x / np.sqrt((x * x).mean(-1, keepdims=True)
                                                        + 1e-7) * 2.0, rtol=1e-6)
    np.testing.assert_allclose(float(ops.psnr(np.ones((1, 2, 2, 1)), np.full((1, 2, 2, 1),
                                                                              0.5), 1.0)),
                               6.020599913279623, rtol=1e-6)
    check_grad(lambda v: ops.layer_normalization(v, axis=-1), [x], rtol=1e-4)


def test_losses():
    # from TF 2.21 / Keras 3
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(
        np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]])).numpy(),
        [0.22314355131420976, 0.5108256237659907], rtol=1e-6)
    np.testing.assert_allclose(ops.binary_crossentropy(
        np.array([1.0, 0.0]), np.array([0.9, 0.2])).numpy(),
        [0.10536051565782628, 0.2231435513142097], rtol=1e-6)
    logits = RNG.standard_normal((4, 5))
    labels = RNG.integers(0, 5, 4)
    onehot = np.eye(5)[labels]
    ref = -np.log(_softmax(logits))[np.arange(4), labels]
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(
        labels, logits, from_logits=True).numpy(), ref)
    np.testing.assert_allclose(ops.categorical_crossentropy(
        onehot, logits, from_logits=True).numpy(), ref)
    np.testing.assert_allclose(ops.categorical_crossentropy(
        onehot, _softmax(logits)).numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(
        labels, logits.T, from_logits=True, axis=0).numpy(), ref)
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(
        labels[:, None], logits, from_logits=True).numpy(), ref)
    z = RNG.standard_normal(6)
    t = RNG.random(6)
    np.testing.assert_allclose(ops.binary_crossentropy(t, z, from_logits=True).numpy(),
                               -(t * np.log(_sigmoid(z)) + (1 - t)
                                 * np.log(1 - _sigmoid(z))))
    check_grad(lambda lg: ops.categorical_crossentropy(onehot, lg, from_logits=True),
               [logits])
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(onehot, logits[:, :3])


def test_ctc_loss_matches_tf():
    # logits and expected losses from TF 2.21 / Keras 3
    logits = np.array(
        [[[0.1257302, -0.1321049, 0.6404226, 0.1049001],
          [-0.5356694, 0.3615951, 1.3040000, 0.9470810],
          [-0.7037352, -1.2654215, -0.6232744, 0.0413260],
          [-2.3250308, -0.2187917, -1.2459110, -0.7322674],
          [-0.5442590, -0.3163002, 0.4116305, 1.0425134]],
         [[-0.1285347, 1.3664634, -0.6651947, 0.3515101],
          [0.9034702, 0.0940123, -0.7434993, -0.9217254],
          [-0.4577258, 0.2201951, -1.0096182, -0.2091756],
          [-0.1592250, 0.5408456, 0.2146591, 0.3553727],
          [-0.6538286, -0.1296136, 0.7839755, 1.4934311]]], np.float32)
    loss = ops.ctc_loss(np.array([[1, 2, 0], [2, 0, 0]]), logits, np.array([2, 1]),
                        np.array([5, 4]))
    np.testing.assert_allclose(loss.numpy(), [5.029120922088623, 4.580392837524414],
                               rtol=1e-5)


def test_dot_product_attention_matches_numpy():
    b, t, s, n, k, h = 2, 3, 4, 4, 2, 5
    q = RNG.standard_normal((b, t, n, h))
    key = RNG.standard_normal((b, s, k, h))
    v = RNG.standard_normal((b, s, k, h))
    mask = RNG.random((b, 1, t, s)) > 0.3
    mask[..., 0] = True

    def ref(q, key, v, mask, causal):
        kk, vv = np.repeat(key, n // k, axis=2), np.repeat(v, n // k, axis=2)
        logits = np.einsum("btnh,bsnh->bnts", q, kk) / np.sqrt(h)
        keep = np.broadcast_to(mask, logits.shape)
        if causal:
            keep = keep & np.tril(np.ones((t, s), bool))
        logits = np.where(keep, logits, -1e9)
        return np.einsum("bnts,bsnh->btnh", _softmax(logits), vv)
    for causal in (False, True):
        got = ops.dot_product_attention(q, key, v, mask=mask, is_causal=causal)
        np.testing.assert_allclose(got.numpy(), ref(q, key, v, mask, causal), rtol=1e-6)
    check_grad(lambda a, c: ops.dot_product_attention(a, c, c), [q[:1], key[:1]],
               rtol=1e-4)
    with pytest.raises(ValueError, match="multiple"):
        ops.dot_product_attention(q, key[:, :, :1].repeat(3, 2), v)


def _conv2d_ref(x, w, stride):
    kh, kw, _, out = w.shape
    oh = (x.shape[1] - kh) // stride + 1
    ow = (x.shape[2] - kw) // stride + 1
    y = np.zeros((x.shape[0], oh, ow, out))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            y[:, i, j] = np.einsum("bhwc,hwco->bo", patch, w)
    return y


def test_conv_and_transpose_are_adjoint():
    x = RNG.standard_normal((2, 7, 6, 3))
    w = RNG.standard_normal((3, 2, 3, 4))
    y = ops.conv(x, w, strides=2)
    np.testing.assert_allclose(y.numpy(), _conv2d_ref(x, w, 2), rtol=1e-10)
    xf = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_allclose(ops.conv(xf, w, 2, data_format="channels_first").numpy(),
                               np.transpose(_conv2d_ref(x, w, 2), (0, 3, 1, 2)))
    g = RNG.standard_normal(y.shape)
    # <conv(x), g> == <x, conv_transpose(g)> with the matching output size
    xt = ops.conv_transpose(g, w, strides=2, output_padding=(0, 0))
    assert xt.shape == (2, 7, 6, 3)
    np.testing.assert_allclose(np.sum(y.numpy() * g), np.sum(x * xt.numpy()))
    check_grad(lambda a, b: ops.conv(a, b, padding="same"), [x[:1, :4, :4], w])


@pytest.mark.parametrize("strides,padding,output_padding,dilation,expect", [
    (2, "valid", None, 1, (1, 11, 11, 4)), (2, "same", None, 1, (1, 10, 10, 4)),
    (3, "valid", 1, 1, (1, 16, 16, 4)), (2, "same", 1, 1, (1, 10, 10, 4)),
    (1, "valid", None, 2, (1, 9, 9, 4))])
def test_conv_transpose_shapes_match_tf(strides, padding, output_padding, dilation,
                                        expect):
    # shapes from TF 2.21 / Keras 3
    x = np.ones((1, 5, 5, 2), np.float32)
    out = ops.conv_transpose(x, np.ones((3, 3, 4, 2), np.float32), strides, padding,
                             output_padding, dilation_rate=dilation)
    assert out.shape == expect


def test_depthwise_separable_and_pooling():
    x = RNG.standard_normal((2, 6, 6, 3))
    dw = RNG.standard_normal((3, 3, 3, 2))
    out = ops.depthwise_conv(x, dw)
    ref = np.stack([_conv2d_ref(x[..., c:c + 1], dw[:, :, c:c + 1, :], 1)
                    for c in range(3)], axis=3).reshape(2, 4, 4, 6)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10)
    pw = RNG.standard_normal((1, 1, 6, 5))
    np.testing.assert_allclose(ops.separable_conv(x, dw, pw).numpy(),
                               np.einsum("bhwc,co->bhwo", ref, pw[0, 0]), rtol=1e-10)
    # from TF 2.21 / Keras 3
    assert ops.depthwise_conv(np.ones((1, 6, 3), np.float32), np.ones((2, 3, 2),
                                                                      np.float32),
                              2).shape == (1, 3, 6)
    pooled = ops.max_pool(x, 2)
    np.testing.assert_allclose(pooled.numpy(), x.reshape(2, 3, 2, 3, 2, 3).max((2, 4)))
    avg = ops.average_pool(x, (2, 3), strides=(2, 3))
    np.testing.assert_allclose(avg.numpy(), x.reshape(2, 3, 2, 2, 3, 3).mean((2, 4)))
    assert ops.max_pool(np.ones((1, 5, 5, 1)), 2, padding="same").shape == (1, 3, 3, 1)
    assert ops.average_pool(np.ones((1, 6, 1)), 3, 2).shape == (1, 2, 1)
    check_grad(lambda v: ops.average_pool(v, 2), [x[:1]])
    with pytest.raises(ValueError, match="padding"):
        ops.max_pool(x, 2, padding="full")


def test_control_flow_eager_and_traced():
    def f(x):
        total = ops.fori_loop(0, 4, lambda i, v: v + ops.cast(i, "float32") * x, 0.0 * x)
        big = ops.cond(ops.sum(x) > 0, lambda: x * 2.0, lambda: -x)
        _n, acc = ops.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2.0),
                                (0, x))
        carry, ys = ops.scan(lambda c, r: (c + r, c * r), ops.zeros_like(x[0]), x)
        picked = ops.switch(1, [lambda a: a - 1.0, lambda a: a + 1.0], x)
        mapped = ops.map(lambda r: ops.sum(r), x)
        return [total, big, acc, carry, ys, picked, mapped]
    x = RNG.standard_normal((3, 2)).astype(np.float32)
    total, big, acc, carry, ys, picked, mapped = f(tf.constant(x))
    np.testing.assert_allclose(total.numpy(), 6 * x, rtol=1e-6)
    np.testing.assert_allclose(big.numpy(), 2 * x if x.sum() > 0 else -x)
    np.testing.assert_allclose(acc.numpy(), 8 * x, rtol=1e-6)
    np.testing.assert_allclose(carry.numpy(), x.sum(0), rtol=1e-6)
    np.testing.assert_allclose(ys.numpy(), np.cumsum(np.vstack([0 * x[:1], x]), 0)[:-1]
                               * x, rtol=1e-6)
    np.testing.assert_allclose(picked.numpy(), x + 1)
    np.testing.assert_allclose(mapped.numpy(), x.sum(1), rtol=1e-6)
    check_function_matches_eager(f, [x])
    assert ops.while_loop(lambda v: v < 10, lambda v: v * 2, tf.constant(1)).numpy() == 16
    out = ops.associative_scan(lambda a, b: a + b, np.arange(5.0))
    np.testing.assert_allclose(out.numpy(), np.cumsum(np.arange(5.0)))
    rev = ops.associative_scan(lambda a, b: a + b, np.arange(5.0), reverse=True)
    np.testing.assert_allclose(rev.numpy(), np.cumsum(np.arange(5.0)[::-1])[::-1])
    np.testing.assert_allclose(ops.vectorized_map(lambda r: r * 2.0, x).numpy(), 2 * x)


def test_core_conversions_and_updates():
    x = ops.convert_to_tensor([1, 2], dtype="float16")
    assert x.dtype == tf.float16 and ops.dtype(x) == "float16"
    assert isinstance(ops.convert_to_numpy(x), np.ndarray)
    assert ops.is_tensor(x) and not ops.is_tensor(np.ones(2))
    assert ops.cast(x, "int32").dtype == tf.int32
    assert ops.saturate_cast(np.array([300.0, -5.0]), "uint8").numpy().tolist() == [255, 0]
    np.testing.assert_array_equal(ops.scatter([[0, 1], [0, 1], [2, 0]], [1.0, 2.0, 3.0],
                                              (3, 2)).numpy(), [[0, 3], [0, 0], [3, 0]])
    base = np.zeros((3, 3))
    np.testing.assert_array_equal(ops.scatter_update(base, [[1, 1]], [5.0]).numpy(),
                                  [[0, 0, 0], [0, 5, 0], [0, 0, 0]])
    m = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(ops.slice(m, (1, 2), (2, 2)).numpy(), m[1:3, 2:4])
    upd = ops.slice_update(m, (1, 2), np.ones((2, 2)))
    want = m.copy()
    want[1:3, 2:4] = 1
    np.testing.assert_array_equal(upd.numpy(), want)
    assert len(ops.unstack(m, axis=1)) == 4
    v = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = v * ops.stop_gradient(v * v)
    assert float(tape.gradient(y, v)) == 4.0

    @ops.custom_gradient
    def clipped(a):
        return a * 1.0, lambda dy: dy * 0.0 + 7.0
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = clipped(v)
    assert float(tape.gradient(y, v)) == 7.0
    check_grad(lambda a, b: ops.slice_update(a, (1, 0), b), [m, np.ones((2, 3))])


def test_math_namespace():
    x = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    values, indices = ops.top_k(x, 2)
    np.testing.assert_array_equal(values.numpy(), [[5, 3], [6, 4]])
    np.testing.assert_array_equal(indices.numpy(), [[1, 2], [2, 0]])
    assert ops.in_top_k(np.array([1, 0]), x, 1).numpy().tolist() == [True, False]
    # from TF 2.21 / Keras 3
    np.testing.assert_array_equal(ops.segment_sum(np.array([1.0, 2, 3, 4]),
                                                  np.array([0, 0, 2, 1])).numpy(),
                                  [3, 4, 3])
    np.testing.assert_array_equal(ops.segment_max(np.array([1.0, 2, 3, 4]),
                                                  np.array([0, 0, 1, 1]), sorted=True)
                                  .numpy(), [2, 4])
    np.testing.assert_array_equal(ops.segment_sum(np.ones((3, 2)), [0, 1, 1],
                                                  num_segments=3).numpy(),
                                  [[1, 1], [2, 2], [0, 0]])
    re, im = RNG.standard_normal((2, 8)), RNG.standard_normal((2, 8))
    fr, fi = ops.fft((re, im))
    np.testing.assert_allclose(fr.numpy() + 1j * fi.numpy(), np.fft.fft(re + 1j * im))
    fr, fi = ops.fft2((re, im))
    np.testing.assert_allclose(fr.numpy() + 1j * fi.numpy(), np.fft.fft2(re + 1j * im))
    rr, ri = ops.rfft(re)
    np.testing.assert_allclose(rr.numpy() + 1j * ri.numpy(), np.fft.rfft(re))
    np.testing.assert_allclose(ops.irfft((rr, ri)).numpy(), re, atol=1e-12)
    np.testing.assert_allclose(ops.extract_sequences(np.arange(10.0), 4, 3).numpy(),
                               [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    np.testing.assert_allclose(ops.erfinv(ops.erf(np.array([0.1, -0.5]))).numpy(),
                               [0.1, -0.5], rtol=1e-10)
    np.testing.assert_allclose(ops.rsqrt(np.array([4.0])).numpy(), [0.5])


def test_stft_matches_tf():
    s = np.sin(np.arange(64.0) / 3).astype(np.float32)
    # values from TF 2.21 / Keras 3
    re, im = ops.stft(s, 16, 8, 32)
    assert re.shape == (9, 17)
    np.testing.assert_allclose(re.numpy()[1, :5], [2.2444415, -2.1584606, 1.8617927,
                                                   -1.3318964, 0.6980807], rtol=1e-5)
    np.testing.assert_allclose(im.numpy()[2, :5], [0.0, 1.5542295, -2.2174184, 1.8184743,
                                                   -0.9213987], atol=1e-5)
    re, _ = ops.stft(s, 16, 8, 16, center=False)
    assert re.shape == (7, 9)
    np.testing.assert_allclose(re.numpy()[1, :4], [-3.992083, 3.3114836, -1.2416437,
                                                   -0.05188727], rtol=1e-5, atol=1e-6)
    re, _ = ops.stft(s, 16, 8, 32, window="hamming")
    np.testing.assert_allclose(re.numpy()[1, :5], [2.1968558, -2.1629314, 1.9399906,
                                                   -1.3846087, 0.6517561], rtol=1e-5)


def test_image_ops():
    x = np.arange(2 * 4 * 6 * 3).reshape(2, 4, 6, 3).astype(np.float32)
    # values from TF 2.21 / Keras 3
    r = ops.image.resize(x, (2, 3))
    np.testing.assert_allclose(r.numpy()[0, :, :, 0], [[10.5, 16.5, 22.5],
                                                       [46.5, 52.5, 58.5]])
    assert ops.image.resize(x.astype(np.uint8), (2, 3)).dtype == tf.uint8
    np.testing.assert_allclose(ops.image.resize(x, (3, 3), crop_to_aspect_ratio=True)
                               .numpy()[0, :, :, 0], [[6.5, 10.5, 14.5], [30.5, 34.5, 38.5],
                                                      [54.5, 58.5, 62.5]], rtol=1e-6)
    np.testing.assert_allclose(ops.image.resize(x, (3, 3), pad_to_aspect_ratio=True)
                               .numpy()[0, :, :, 0], [[0.75, 3.75, 6.75], [28.5, 34.5, 40.5],
                                                      [27.75, 30.75, 33.75]], rtol=1e-6)
    first = ops.image.resize(np.transpose(x, (0, 3, 1, 2)), (2, 3),
                             data_format="channels_first")
    np.testing.assert_allclose(first.numpy(), np.transpose(r.numpy(), (0, 3, 1, 2)))
    assert ops.image.resize(x[0], (8, 12), interpolation="nearest").shape == (8, 12, 3)
    assert ops.image.rgb_to_grayscale(x).shape == (2, 4, 6, 1)
    patches = ops.image.extract_patches(x, 2)
    assert patches.shape == (2, 2, 3, 12)
    np.testing.assert_array_equal(patches.numpy()[0, 0, 0], x[0, :2, :2].reshape(-1))
    assert ops.image.extract_patches(x, (2, 3), strides=1, padding="same").shape == (
        2, 4, 6, 18)
    hsv = ops.image.rgb_to_hsv(x / x.max())
    np.testing.assert_allclose(ops.image.hsv_to_rgb(hsv).numpy(), x / x.max(), atol=1e-6)
    padded = ops.image.pad_images(x, 1, 2, target_height=7, target_width=9)
    assert padded.shape == (2, 7, 9, 3)
    np.testing.assert_array_equal(ops.image.crop_images(padded, 1, 2, 2, 1).numpy(), x)
    # resize computes in float32 and is linear: a wide step keeps the differences exact
    check_grad(lambda v: ops.image.resize(v, (3, 5)), [x[:1, :, :, :1] / 10.0], eps=0.5,
               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(x, (2, 2), interpolation="cubic-ish")


def test_nn_ops_trace_like_eager():
    x = RNG.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)

    def f(a, k):
        h = ops.relu(ops.conv(a, k, padding="same"))
        h = ops.max_pool(h, 2, padding="same")
        logits = ops.mean(h, axis=(1, 2))
        return [ops.softmax(logits), ops.sparse_categorical_crossentropy(
            [1, 2], logits, from_logits=True), ops.gelu(h)]
    check_function_matches_eager(f, [x, w], rtol=1e-5, atol=1e-6)
