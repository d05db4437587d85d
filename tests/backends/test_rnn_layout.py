"""Keras <-> cuDNN weight layout and the NumPy reference RNNs (CPU only)."""

import numpy as np
import pytest

from dlframe.backends import rnn_layout as rl

CELLS = ["lstm", "gru"]
B, T, IN, U = 3, 5, 4, 6


def _weights(cell, rng, dtype=np.float64, scale=0.5):
    g = rl.num_gates(cell)
    kernel = (rng.standard_normal((IN, g * U)) * scale).astype(dtype)
    recurrent = (rng.standard_normal((U, g * U)) * scale).astype(dtype)
    bshape = (g * U,) if cell == "lstm" else (2, g * U)
    bias = (rng.standard_normal(bshape) * scale).astype(dtype)
    return kernel, recurrent, bias


def _inputs(cell, rng, dtype=np.float64):
    x = rng.standard_normal((B, T, IN)).astype(dtype)
    h0 = rng.standard_normal((B, U)).astype(dtype) * 0.5
    c0 = rng.standard_normal((B, U)).astype(dtype) * 0.5 if cell == "lstm" else None
    return x, h0, c0


def _shuffled_views(cell):
    """A legal but non-standard table: blocks in reverse order with gaps."""
    g = rl.num_gates(cell)
    matrices, biases = [None] * (2 * g), [None] * (2 * g)
    offset = 7
    for lin in reversed(range(2 * g)):
        biases[lin] = (offset, (U,))
        offset += U + 3
    for lin in reversed(range(2 * g)):
        cols = IN if lin < g else U
        matrices[lin] = (offset, (U, cols))
        offset += U * cols + 1
    return rl.WeightViews(matrices, biases, offset + 5)


def test_num_gates():
    assert rl.num_gates("lstm") == 4 and rl.num_gates("gru") == 3
    with pytest.raises(ValueError, match="rnn"):
        rl.num_gates("rnn")


@pytest.mark.parametrize("cell", CELLS)
def test_synthetic_views_layout(cell):
    g = rl.num_gates(cell)
    v = rl.synthetic_views(cell, IN, U)
    assert v.size == g * U * IN + g * U * U + 2 * g * U
    assert [o for o, _ in v.matrices[:g]] == [k * U * IN for k in range(g)]
    assert v.matrices[g][0] == g * U * IN
    assert v.biases[0][0] == g * U * (IN + U)
    assert v.biases[g][0] == g * U * (IN + U) + g * U


def test_lstm_gate_mapping_explicit():
    kernel, recurrent, bias = _weights("lstm", np.random.default_rng(0))
    w, r, bw, br = rl.keras_to_cudnn("lstm", kernel, recurrent, bias)
    for k in range(4):  # i, f, c, o in both
        np.testing.assert_array_equal(w[k], kernel[:, k * U:(k + 1) * U].T)
        np.testing.assert_array_equal(r[k], recurrent[:, k * U:(k + 1) * U].T)
        np.testing.assert_array_equal(bw[k], 0.0)
        np.testing.assert_array_equal(br[k], bias[k * U:(k + 1) * U])


def test_gru_gate_mapping_explicit():
    kernel, recurrent, bias = _weights("gru", np.random.default_rng(1))
    w, r, bw, br = rl.keras_to_cudnn("gru", kernel, recurrent, bias)
    z, rr, h = (slice(k * U, (k + 1) * U) for k in range(3))
    for cud, ker in ((0, rr), (1, z), (2, h)):  # cuDNN r, z, h <- Keras z, r, h
        np.testing.assert_array_equal(w[cud], kernel[:, ker].T)
        np.testing.assert_array_equal(r[cud], recurrent[:, ker].T)
        np.testing.assert_array_equal(bw[cud], bias[0, ker])
        np.testing.assert_array_equal(br[cud], bias[1, ker])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("views_kind", ["synthetic", "shuffled"])
def test_pack_unpack_round_trip(cell, views_kind):
    kernel, recurrent, bias = _weights(cell, np.random.default_rng(2))
    views = (rl.synthetic_views(cell, IN, U) if views_kind == "synthetic"
             else _shuffled_views(cell))
    flat = rl.pack_weights(cell, kernel, recurrent, bias, views)
    assert flat.shape == (views.size,) and flat.dtype == kernel.dtype
    dk, dr, db = rl.unpack_gradients(cell, flat, views, IN, U)
    np.testing.assert_array_equal(dk, kernel)
    np.testing.assert_array_equal(dr, recurrent)
    np.testing.assert_array_equal(db, bias)  # LSTM: bR holds the bias


@pytest.mark.parametrize("cell", CELLS)
def test_pack_matches_cudnn_row_major_layout(cell):
    kernel, recurrent, bias = _weights(cell, np.random.default_rng(3))
    g = rl.num_gates(cell)
    views = rl.synthetic_views(cell, IN, U)
    flat = rl.pack_weights(cell, kernel, recurrent, bias, views)
    w, r, bw, br = rl.keras_to_cudnn(cell, kernel, recurrent, bias)
    expect = np.concatenate([m.reshape(-1) for m in w] + [m.reshape(-1) for m in r]
                            + list(bw) + list(br))
    np.testing.assert_array_equal(flat, expect)
    # element (row j, col i) of W_0 is kernel[i, block0 + j]
    blk0 = 0 if cell == "lstm" else U  # GRU cuDNN gate 0 (r) = Keras block 1
    assert flat[1 * IN + 2] == kernel[2, blk0 + 1]
    assert flat.size == views.size and g * U * IN < flat.size


def test_pack_into_out_and_gaps_zeroed():
    kernel, recurrent, bias = _weights("gru", np.random.default_rng(4))
    views = _shuffled_views("gru")
    out = np.full(views.size, 99.0)
    res = rl.pack_weights("gru", kernel, recurrent, bias, views, out=out)
    assert res is out
    assert out[0] == 0.0 and out[-1] == 0.0  # gaps before/after are zeroed


def test_lstm_unpack_ignores_dbw():
    views = rl.synthetic_views("lstm", IN, U)
    flat = np.zeros(views.size)
    for lin in range(4):  # bW
        off, _ = views.biases[lin]
        flat[off:off + U] = 1.0
    for lin in range(4, 8):  # bR
        off, _ = views.biases[lin]
        flat[off:off + U] = 2.0
    _, _, db = rl.unpack_gradients("lstm", flat, views, IN, U)
    np.testing.assert_array_equal(db, 2.0)  # dbR only, not dbW + dbR


def test_none_bias_packs_zeros():
    kernel, recurrent, _ = _weights("lstm", np.random.default_rng(5))
    views = rl.synthetic_views("lstm", IN, U)
    flat = rl.pack_weights("lstm", kernel, recurrent, None, views)
    np.testing.assert_array_equal(flat[views.biases[0][0]:], 0.0)


def test_shape_errors():
    kernel, recurrent, bias = _weights("lstm", np.random.default_rng(6))
    views = rl.synthetic_views("lstm", IN, U)
    with pytest.raises(ValueError, match="kernel"):
        rl.pack_weights("lstm", kernel[:, :-1], recurrent, bias, views)
    with pytest.raises(ValueError, match="bias"):
        rl.pack_weights("lstm", kernel, recurrent, bias[:-1], views)
    with pytest.raises(ValueError, match="linLayerID"):
        rl.pack_weights("lstm", kernel, recurrent, bias, rl.synthetic_views("lstm", IN + 1, U))
    with pytest.raises(ValueError, match="flat"):
        rl.unpack_gradients("lstm", np.zeros(3), views, IN, U)
    with pytest.raises(ValueError, match="seq_lengths"):
        rl.reference_forward("lstm", np.zeros((B, T, IN)), None, None, kernel, recurrent,
                             bias, seq_lengths=[1, 2])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("lengths", [None, [5, 3, 1]])
def test_reference_matches_keras_equations(cell, lengths):
    rng = np.random.default_rng(7)
    kernel, recurrent, bias = _weights(cell, rng)
    x, h0, c0 = _inputs(cell, rng)
    y, hy, cy, _ = rl.reference_forward(cell, x, h0, c0, kernel, recurrent, bias, lengths)
    ky, khy, kcy = rl.keras_equations_forward(cell, x, h0, c0, kernel, recurrent, bias,
                                              lengths)
    np.testing.assert_allclose(y, ky, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hy, khy, rtol=1e-12, atol=1e-14)
    if cell == "lstm":
        np.testing.assert_allclose(cy, kcy, rtol=1e-12, atol=1e-14)
    else:
        assert cy is None and kcy is None


@pytest.mark.parametrize("cell", CELLS)
def test_reference_padding_semantics(cell):
    rng = np.random.default_rng(8)
    kernel, recurrent, bias = _weights(cell, rng)
    x, h0, c0 = _inputs(cell, rng)
    lengths = [5, 3, 1]
    y, hy, cy, _ = rl.reference_forward(cell, x, h0, c0, kernel, recurrent, bias, lengths)
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(y[b, n:], 0.0)
        np.testing.assert_array_equal(hy[b], y[b, n - 1])
        # the same sample run alone, truncated, gives the same state
        yb, hb, cb, _ = rl.reference_forward(
            cell, x[b:b + 1, :n], h0[b:b + 1], None if c0 is None else c0[b:b + 1],
            kernel, recurrent, bias)
        np.testing.assert_allclose(yb[0], y[b, :n], rtol=1e-13)
        np.testing.assert_allclose(hb[0], hy[b], rtol=1e-13)
        if cell == "lstm":
            np.testing.assert_allclose(cb[0], cy[b], rtol=1e-13)
    # length 0 keeps the initial state
    _, hz, _, _ = rl.reference_forward(cell, x, h0, c0, kernel, recurrent, bias, [0, 2, 5])
    np.testing.assert_array_equal(hz[0], h0[0])


def _loss(cell, params, dy, dhy, dcy, lengths):
    x, h0, c0, kernel, recurrent, bias = params
    y, hy, cy, _ = rl.reference_forward(cell, x, h0, c0, kernel, recurrent, bias, lengths)
    total = np.sum(y * dy) + np.sum(hy * dhy)
    if cell == "lstm":
        total += np.sum(cy * dcy)
    return total


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("lengths", [None, [5, 3, 1]])
def test_reference_backward_matches_finite_differences(cell, lengths):
    rng = np.random.default_rng(9)
    kernel, recurrent, bias = _weights(cell, rng)
    x, h0, c0 = _inputs(cell, rng)
    dy = rng.standard_normal((B, T, U))
    dhy = rng.standard_normal((B, U))
    dcy = rng.standard_normal((B, U)) if cell == "lstm" else None
    _, _, _, cache = rl.reference_forward(cell, x, h0, c0, kernel, recurrent, bias, lengths)
    grads = rl.reference_backward(cache, dy, dhy, dcy)
    params = [x, h0, c0, kernel, recurrent, bias]
    eps = 1e-6
    for p, g in zip(params, grads):
        if p is None:
            assert g is None
            continue
        num = np.zeros_like(p)
        it = np.nditer(p, flags=["multi_index"])
        for _ in it:
            idx = it.multi_index
            old = p[idx]
            p[idx] = old + eps
            up = _loss(cell, params, dy, dhy, dcy, lengths)
            p[idx] = old - eps
            down = _loss(cell, params, dy, dhy, dcy, lengths)
            p[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
