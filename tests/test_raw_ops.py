"""tf.raw_ops: keyword-only adapters with TF's op-def argument names."""

import inspect

import numpy as np
import pytest
from helpers import check_op

import dlframe as tf

raw = tf.raw_ops
rng = np.random.RandomState(0)
X = rng.uniform(0.1, 0.9, (3, 4))
Y = rng.uniform(0.1, 0.9, (3, 4))
I = np.array([[-7, 7, 5, -5], [9, -9, 3, 0]], np.int32)
J = np.array([[2, 2, -3, 3], [4, 4, 2, 5]], np.int32)


def test_namespace_size_and_unknown_name():
    assert len(raw.__all__) >= 250
    assert all(callable(getattr(raw, n)) for n in raw.__all__)
    assert "MatMul" in dir(raw)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        raw.Nope   # noqa: B018


def test_keyword_only_and_argument_errors():
    with pytest.raises(TypeError, match="only takes keyword args"):
        raw.AddV2(1, 2)
    with pytest.raises(TypeError, match="missing 1 required argument.*'y'"):
        raw.AddV2(x=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        raw.AddV2(x=1, y=2, z=3)
    assert raw.AddV2(x=1.0, y=2.0, name="add").numpy() == 3.0
    params = inspect.signature(raw.MatMul).parameters
    assert list(params) == ["a", "b", "transpose_a", "transpose_b", "grad_a", "grad_b",
                            "name"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert raw.NoOp() is None


UNARY = [("Abs", np.abs), ("Exp", np.exp), ("Log", np.log), ("Sqrt", np.sqrt),
         ("Rsqrt", lambda x: 1 / np.sqrt(x)), ("Tanh", np.tanh), ("Neg", np.negative),
         ("Square", np.square), ("Reciprocal", np.reciprocal), ("Sin", np.sin),
         ("Sigmoid", lambda x: 1 / (1 + np.exp(-x))), ("Log1p", np.log1p)]


@pytest.mark.parametrize("op,ref", UNARY, ids=[u[0] for u in UNARY])
def test_unary(op, ref):
    check_op(lambda x: getattr(raw, op)(x=x), [X.copy()], ref)


BINARY = [("AddV2", np.add), ("Sub", np.subtract), ("Mul", np.multiply),
          ("RealDiv", np.divide), ("Maximum", np.maximum), ("Pow", np.power),
          ("SquaredDifference", lambda x, y: (x - y) ** 2)]


@pytest.mark.parametrize("op,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary(op, ref):
    check_op(lambda x, y: getattr(raw, op)(x=x, y=y), [X.copy(), Y.copy()], ref)


def test_integer_division_semantics_match_tf():
    # Div and Mod truncate toward zero (C semantics), FloorDiv/FloorMod floor
    np.testing.assert_array_equal(raw.Div(x=I, y=J).numpy(), np.trunc(I / J))
    np.testing.assert_array_equal(raw.Mod(x=I, y=J).numpy(), np.fmod(I, J))
    np.testing.assert_array_equal(raw.FloorDiv(x=I, y=J).numpy(), I // J)
    np.testing.assert_array_equal(raw.FloorMod(x=I, y=J).numpy(), np.mod(I, J))
    atan2 = raw.Atan2(y=X, x=Y)
    if atan2._device.is_gpu:   # CUDA's atan2 is within 2 ulp, not glibc's bits
        np.testing.assert_allclose(atan2.numpy(), np.arctan2(X, Y), rtol=1e-15, atol=0)
    else:
        np.testing.assert_array_equal(atan2.numpy(), np.arctan2(X, Y))


@pytest.mark.parametrize("op,ref", [("Sum", np.sum), ("Mean", np.mean), ("Max", np.max),
                                    ("Prod", np.prod)])
def test_reductions_keep_dims(op, ref):
    check_op(lambda x: getattr(raw, op)(input=x, axis=1), [X.copy()],
             lambda x: ref(x, axis=1))
    out = getattr(raw, op)(input=X, axis=[0, 1], keep_dims=True)
    np.testing.assert_allclose(out.numpy(), ref(X, keepdims=True))
    assert raw.ArgMax(input=X, dimension=1).dtype == tf.int64
    np.testing.assert_array_equal(raw.ArgMin(input=X, dimension=0).numpy(),
                                  X.argmin(0))


def test_matmul_conv_and_pool():
    check_op(lambda a, b: raw.MatMul(a=a, b=b, transpose_b=True), [X.copy(), Y.copy()],
             lambda a, b: a @ b.T)
    check_op(lambda a, b: raw.BatchMatMulV2(x=a, y=b, adj_x=True),
             [X[None].copy(), Y[None].copy()],
             lambda a, b: np.swapaxes(a, 1, 2) @ b)
    img = rng.uniform(size=(1, 5, 5, 2))
    filt = rng.uniform(size=(3, 3, 2, 3))
    ref = np.zeros((1, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            ref[0, i, j] = np.einsum("hwc,hwco->o", img[0, i:i + 3, j:j + 3], filt)
    check_op(lambda x, w: raw.Conv2D(input=x, filter=w, strides=[1, 1, 1, 1],
                                     padding="VALID"), [img, filt], lambda x, w: ref,
             rtol=1e-6)
    pooled = raw.MaxPool(input=img, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                         padding="VALID").numpy()
    np.testing.assert_allclose(pooled, img[:, :4, :4].reshape(1, 2, 2, 2, 2, 2)
                               .max(axis=(2, 4)))
    explicit = raw.Conv2D(input=img, filter=filt, strides=[1, 1, 1, 1],
                          padding="EXPLICIT", explicit_paddings=[0, 0, 1, 1, 1, 1, 0, 0])
    same = raw.Conv2D(input=img, filter=filt, strides=[1, 1, 1, 1], padding="SAME")
    np.testing.assert_allclose(explicit.numpy(), same.numpy())


def test_array_ops():
    np.testing.assert_array_equal(
        raw.ConcatV2(values=[X, Y], axis=1).numpy(), np.concatenate([X, Y], 1))
    np.testing.assert_array_equal(raw.Concat(concat_dim=0, values=[X, Y]).numpy(),
                                  np.concatenate([X, Y], 0))
    np.testing.assert_array_equal(raw.Pack(values=[X, Y], axis=1).numpy(),
                                  np.stack([X, Y], 1))
    parts = raw.Unpack(value=X, num=3)
    assert len(parts) == 3 and np.array_equal(parts[1].numpy(), X[1])
    np.testing.assert_array_equal(raw.GatherV2(params=X, indices=[2, 0], axis=1).numpy(),
                                  X[:, [2, 0]])
    np.testing.assert_array_equal(
        raw.GatherNd(params=X, indices=[[0, 1], [2, 3]]).numpy(), X[[0, 2], [1, 3]])
    scattered = raw.ScatterNd(indices=[[1], [3]], updates=[[1.0, 2.0], [3.0, 4.0]],
                              shape=[4, 2]).numpy()
    np.testing.assert_array_equal(scattered, [[0, 0], [1, 2], [0, 0], [3, 4]])
    np.testing.assert_array_equal(
        raw.StridedSlice(input=X, begin=[1, 0], end=[3, 4], strides=[1, 2]).numpy(),
        X[1:3, 0:4:2])
    np.testing.assert_array_equal(
        raw.StridedSlice(input=X, begin=[1, 0], end=[2, 0], strides=[1, 1],
                         shrink_axis_mask=1, end_mask=2).numpy(), X[1])
    np.testing.assert_array_equal(raw.Slice(input=X, begin=[1, 1], size=[2, -1]),
                                  X[1:, 1:])
    assert raw.Fill(dims=[2, 3], value=7).numpy().tolist() == [[7] * 3] * 2
    assert raw.Range(start=1, limit=10, delta=3).numpy().tolist() == [1, 4, 7]
    assert raw.Squeeze(input=np.ones((1, 3, 1))).shape == (3,)
    assert raw.Squeeze(input=np.ones((1, 3, 1)), axis=[2]).shape == (1, 3)
    np.testing.assert_array_equal(
        raw.MirrorPad(input=X, paddings=[[1, 1], [2, 0]], mode="REFLECT").numpy(),
        np.pad(X, [[1, 1], [2, 0]], mode="reflect"))
    np.testing.assert_array_equal(
        raw.PadV2(input=X, paddings=[[1, 0], [0, 1]], constant_values=9.0).numpy(),
        np.pad(X, [[1, 0], [0, 1]], constant_values=9.0))
    cast = raw.Cast(x=X * 10, DstT=tf.int32)
    assert cast.dtype == tf.int32 and cast.numpy().tolist() == (X * 10).astype(
        np.int32).tolist()
    assert raw.Shape(input=X, out_type=tf.int64).numpy().tolist() == [3, 4]
    assert int(raw.Size(input=X)) == 12 and int(raw.Rank(input=X)) == 2
    np.testing.assert_array_equal(raw.Where(condition=X > 0.5).numpy(),
                                  np.argwhere(X > 0.5))
    np.testing.assert_array_equal(raw.SelectV2(condition=X > 0.5, t=X, e=Y).numpy(),
                                  np.where(X > 0.5, X, Y))
    rows = raw.Select(condition=[True, False, True], x=X, y=Y).numpy()
    np.testing.assert_array_equal(rows, np.where([[True], [False], [True]], X, Y))
    np.testing.assert_array_equal(
        raw.OneHot(indices=[0, 2], depth=3, on_value=5.0, off_value=-1.0).numpy(),
        [[5, -1, -1], [-1, -1, 5]])
    top = raw.TopKV2(input=X, k=2)
    assert type(top).__name__ == "TopKV2" and top._fields == ("values", "indices")
    np.testing.assert_array_equal(top.values.numpy(), -np.sort(-X, axis=1)[:, :2])
    np.testing.assert_allclose(raw.Cumsum(x=X, axis=1, exclusive=True).numpy(),
                               np.cumsum(X, 1) - X, atol=1e-12)
    np.testing.assert_array_equal(raw.Reverse(tensor=X, dims=[True, False]).numpy(),
                                  X[::-1])
    assert raw.Bitcast(input=np.float32([1.0]), type=tf.int32).numpy().tolist() == [
        1065353216]
    np.testing.assert_array_equal(
        raw.Einsum(inputs=[X, Y], equation="ij,kj->ik").numpy(), X @ Y.T)
    np.testing.assert_array_equal(
        raw.MatrixBandPart(input=np.ones((3, 3)), num_lower=1, num_upper=0).numpy(),
        np.tril(np.ones((3, 3))) - np.tril(np.ones((3, 3)), -2))


def test_multi_output_ops_match_tf():
    # expected values came from TF 2.21
    diff = raw.ListDiff(x=[1, 2, 3, 4, 2], y=[2, 5])
    assert diff._fields == ("out", "idx")
    assert diff.out.numpy().tolist() == [1, 3, 4] and diff.idx.numpy().tolist() == [0, 2,
                                                                                     3]
    uc = raw.UniqueWithCounts(x=[3, 1, 3])
    assert [v.numpy().tolist() for v in uc] == [[3, 1], [0, 1, 0], [2, 1]]
    split = raw.StringSplitV2(input=["a b", "c"], sep=" ")
    assert split.indices.numpy().tolist() == [[0, 0], [0, 1], [1, 0]]
    assert split.values.numpy().tolist() == [b"a", b"b", b"c"]
    assert split.shape.numpy().tolist() == [2, 2]
    xent = raw.SoftmaxCrossEntropyWithLogits(features=[[1.0, 2.0, 3.0]],
                                             labels=[[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(xent.loss.numpy(), [0.40760595], rtol=1e-6)
    np.testing.assert_allclose(xent.backprop.numpy(),
                               [[0.09003057, 0.24472848, -0.33475906]], rtol=1e-6)
    sparse = raw.SparseSoftmaxCrossEntropyWithLogits(features=[[1.0, 2.0, 3.0]],
                                                     labels=[2])
    np.testing.assert_allclose(sparse.backprop.numpy(), xent.backprop.numpy(), rtol=1e-6)
    det = raw.LogMatrixDeterminant(input=[[2.0, 0.0], [0.0, 3.0]])
    assert det._fields == ("sign", "log_abs_determinant")
    np.testing.assert_allclose(det.log_abs_determinant.numpy(), np.log(6.0), rtol=1e-6)
    assert raw.Bincount(arr=[1, 1, 3], size=5, weights=[]).numpy().tolist() == [
        0.0, 2.0, 0.0, 1.0, 0.0]


def test_fused_batch_norm_v3_matches_tf():
    x = (np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3) / 7)
    scale, offset = np.full(3, 2, np.float32), np.ones(3, np.float32)
    out = raw.FusedBatchNormV3(x=x, scale=scale, offset=offset,
                               mean=np.zeros(0, np.float32),
                               variance=np.zeros(0, np.float32), epsilon=0.001)
    assert out._fields == ("y", "batch_mean", "batch_variance", "reserve_space_1",
                           "reserve_space_2", "reserve_space_3")
    flat = x.reshape(-1, 3)
    np.testing.assert_allclose(out.batch_mean.numpy(), flat.mean(0), rtol=1e-6)
    # the running-statistics output is Bessel-corrected; reserve_space_2 is not
    np.testing.assert_allclose(out.batch_variance.numpy(), flat.var(0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(out.reserve_space_2.numpy(), flat.var(0), rtol=1e-5)
    np.testing.assert_allclose(
        out.y.numpy(), (x - flat.mean(0)) / np.sqrt(flat.var(0) + 0.001) * 2 + 1,
        rtol=1e-5, atol=1e-6)
    # exponential_avg_factor 0.5 with running mean 1 and variance 2 (TF 2.21 values)
    avg = raw.FusedBatchNormV3(x=x, scale=scale, offset=offset, mean=np.ones(3, np.float32),
                               variance=np.full(3, 2, np.float32), epsilon=0.001,
                               exponential_avg_factor=0.5)
    np.testing.assert_allclose(avg.batch_mean.numpy(), [1.25, 1.3214285, 1.3928572],
                               rtol=1e-6)
    np.testing.assert_allclose(avg.batch_variance.numpy(), [1.5510204] * 3, rtol=1e-5)
    infer = raw.FusedBatchNormV3(x=x, scale=scale, offset=offset,
                                 mean=np.ones(3, np.float32),
                                 variance=np.full(3, 2, np.float32), epsilon=0.001,
                                 is_training=False)
    np.testing.assert_allclose(infer.y.numpy()[0, 0, 0],
                               [-0.4138602, -0.21188021, -0.00990021], rtol=1e-5)


def test_resize_grids_match_tf():
    images = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)

    def grid(op, **kw):
        return getattr(raw, op)(images=images, size=[3, 5], **kw).numpy()[0, :, :, 0]
    # expected grids came from TF 2.21
    np.testing.assert_allclose(grid("ResizeBilinear"), [
        [0.0, 0.8, 1.6, 2.4, 3.0], [5.3333335, 6.1333337, 6.9333334, 7.7333336, 8.333334],
        [10.666667, 11.466667, 12.266667, 13.066667, 13.666667]], rtol=1e-6)
    np.testing.assert_allclose(grid("ResizeBilinear", align_corners=True), [
        [0.0, 0.75, 1.5, 2.25, 3.0], [6.0, 6.75, 7.5, 8.25, 9.0],
        [12.0, 12.75, 13.5, 14.25, 15.0]], rtol=1e-6)
    assert grid("ResizeNearestNeighbor").tolist() == [
        [0, 0, 1, 2, 3], [4, 4, 5, 6, 7], [8, 8, 9, 10, 11]]
    assert grid("ResizeNearestNeighbor", align_corners=True).tolist() == [
        [0, 1, 2, 2, 3], [8, 9, 10, 10, 11], [12, 13, 14, 14, 15]]
    half = grid("ResizeBilinear", half_pixel_centers=True)
    np.testing.assert_allclose(half, tf.image.resize(images, [3, 5]).numpy()[0, :, :, 0],
                               rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="align_corners"):
        grid("ResizeBilinear", align_corners=True, half_pixel_centers=True)


def test_stateless_random_is_tfs_stream():
    # values came from TF 2.21
    np.testing.assert_allclose(raw.StatelessRandomUniform(shape=[3], seed=[1, 2]).numpy(),
                               [0.84406042, 0.19204533, 0.99622321], rtol=1e-6)
    np.testing.assert_allclose(raw.StatelessRandomNormal(shape=[3], seed=[1, 2]).numpy(),
                               [0.5441101, 0.2073803, 0.07356432], rtol=1e-5)
    assert raw.StatelessRandomUniformInt(shape=[3], seed=[1, 2], minval=0,
                                         maxval=10).numpy().tolist() == [0, 9, 4]
    draw = raw.RandomUniform(shape=[1000], dtype=tf.float32).numpy()
    assert draw.min() >= 0 and draw.max() < 1 and abs(draw.mean() - 0.5) < 0.05


def test_strings_and_fft():
    assert raw.StringJoin(inputs=[["a", "b"], ["c", "d"]], separator="-").numpy(
    ).tolist() == [b"a-c", b"b-d"]
    assert raw.Substr(input=["hello"], pos=1, len=3).numpy().tolist() == [b"ell"]
    assert raw.ReduceJoin(inputs=[["a", "b"], ["c", "d"]], reduction_indices=1,
                          separator=",").numpy().tolist() == [b"a,b", b"c,d"]
    z = (X + 1j * Y).astype(np.complex64)
    np.testing.assert_allclose(raw.FFT(input=z).numpy(), np.fft.fft(z), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(raw.RFFT(input=X.astype(np.float32), fft_length=[4]),
                               np.fft.rfft(X, 4), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(raw.ConjugateTranspose(x=z, perm=[1, 0]).numpy(),
                               z.conj().T)


def test_gradients_flow_and_prevent_gradient():
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = raw.Sum(input=raw.StopGradient(input=x) * x, axis=[0, 1])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = raw.Sum(input=raw.PreventGradient(input=x, message="no"), axis=0)
    with pytest.raises(LookupError, match="Gradient explicitly disabled. Reason: no"):
        tape.gradient(y, x)


def test_raw_ops_inside_function():
    @tf.function
    def step(a, b):
        h = raw.Relu(features=raw.MatMul(a=a, b=b, transpose_b=True))
        return raw.Softmax(logits=h), raw.Shape(input=h)
    a, b = tf.constant(X - 0.5), tf.constant(Y)
    probs, shape = step(a, b)
    h = np.maximum((X - 0.5) @ Y.T, 0)
    expect = np.exp(h) / np.exp(h).sum(1, keepdims=True)
    np.testing.assert_allclose(probs.numpy(), expect, rtol=1e-6)
    assert shape.numpy().tolist() == [3, 3]
