"""Keras 3 random draws after ``keras.utils.set_random_seed`` (round 23, A).

Noise layers own a ``SeedGenerator`` and draw statelessly from it; ``keras.random``
folds seeds to int32 as Keras 3 on TensorFlow does; ``seed=None`` uses Keras 3's
global generator; augmentation layers take TF's default seeds. The expected
numbers were printed by TensorFlow 2.21 / Keras 3.15 running the same programs.
"""

import random

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import random as R
from tests.test_fake_gpu_round19 import run_script

L = keras.layers


def _r(a, digits=6):
    return np.round(np.asarray(a, dtype="float64"), digits).tolist()


def test_keras_random_seeds_match_tf():
    keras.utils.set_random_seed(3)
    g = keras.random.SeedGenerator(11)
    assert _r(keras.random.uniform([3], seed=g)) == [0.854043, 0.230666, 0.949136]
    assert _r(keras.random.uniform([3], seed=g)) == [0.10637, 0.248812, 0.224686]
    assert g.state.numpy().tolist() == [11, 2]
    assert keras.random.SeedGenerator().get_config()["seed"] is None   # as Keras 3
    assert keras.random.randint([6], 0, 100, seed=8).numpy().tolist() == \
        [18, 76, 1, 45, 42, 38]
    assert keras.random.randint([2], 0, 100, seed=8).dtype == tf.int32
    # an int seed beyond int32 is folded modulo 2**31 - 2 (here: 7)
    assert _r(keras.random.normal([3], seed=2**31 + 5)) == \
        [-0.674173, -0.358693, -1.879582]
    assert _r(keras.random.uniform([2], seed=2**31 + 5)) == \
        _r(tf.random.stateless_uniform([2], seed=[7, 0]))
    assert keras.random.shuffle(np.arange(8), seed=4).numpy().tolist() == \
        [7, 2, 5, 4, 0, 3, 1, 6]
    np.testing.assert_array_equal(keras.random.dropout(tf.ones([4]), 1.0, seed=1), 0.0)


@pytest.mark.parametrize("seed, first", [
    (2**31 + 5, [0.747079, 0.67218]), (2**40 + 3, [0.844631, 0.421464]),
    (-3, [0.335724, 0.735737]), (2**62 + 11, [0.232098, 0.180404])])
def test_wide_seeds_fold_as_tf(seed, first):
    assert _r(keras.random.uniform([2], seed=keras.random.SeedGenerator(seed))) == first
    assert _r(keras.random.uniform([2], seed=seed)) == first


def test_seed_none_uses_the_global_generator_reset_by_set_random_seed():
    keras.utils.set_random_seed(3)
    a = _r(keras.random.uniform([3]))
    b = _r(keras.random.uniform([3]))
    assert a == [0.497931, 0.015927, 0.819297]
    assert b == [0.441965, 0.905663, 0.542492]
    keras.utils.set_random_seed(3)
    assert _r(keras.random.normal([2])) == [0.11798, 1.175018]
    # the state scrambles as Keras 3's unordered draws: (s + 1) * 5387 % 933199
    gen = R.global_seed_generator()
    before = gen.state.numpy().astype("int64")
    keras.random.uniform([1])
    np.testing.assert_array_equal(gen.state.numpy(), (before + 1) * 5387 % 933199)


def test_seed_none_before_set_random_seed_follows_tf_global_seed():
    def draws():
        tf.random.set_seed(9)
        return [keras.random.uniform([3]).numpy() for _ in range(2)]
    first, again = draws(), draws()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[0], first[1])


def test_noise_layers_match_tf():
    keras.utils.set_random_seed(3)
    x = np.ones([2, 6], "float32")
    d = L.Dropout(0.5)
    assert _r(d(x, training=True)) == [[0, 0, 2, 0, 2, 0], [2, 2, 2, 0, 2, 0]]
    assert _r(d(x, training=True)) == [[0, 0, 2, 0, 0, 2], [2, 0, 0, 2, 2, 2]]
    assert d.seed_generator.state.numpy()[1] == 2
    assert _r(L.GaussianNoise(0.5)(x, training=True), 4) == [
        [1.4438, 0.9736, 0.3262, 1.0066, 1.5426, 1.5453],
        [1.0933, 0.7819, 0.6627, 0.8629, 1.0707, 1.9395]]
    assert _r(L.GaussianDropout(0.3)(x, training=True), 4) == [
        [0.5553, 1.0648, 0.5117, -0.3228, 1.2425, 0.6135],
        [1.143, 0.7763, 1.0663, 1.0716, 1.0078, -0.2015]]
    assert _r(L.AlphaDropout(0.3)(x, training=True), 4) == [
        [-1.0595] * 6, [-1.0595] * 4 + [1.315, 1.315]]
    assert _r(L.SpatialDropout1D(0.5)(np.ones([2, 2, 4], "float32"), training=True)) \
        == [[[0] * 4] * 2, [[2, 2, 0, 0]] * 2]
    assert _r(d(x, training=False)) == _r(x)


def test_dropout_fit_and_traced_draws_match_tf():
    keras.utils.set_random_seed(21)
    model = keras.Sequential([keras.Input((5,)), L.Dense(8, activation="relu"),
                              L.Dropout(0.4), L.GaussianNoise(0.2), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.RandomState(0)
    x = rng.randn(64, 5).astype("float32")
    hist = model.fit(x, x.sum(1, keepdims=True), epochs=3, batch_size=16,
                     shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"],
                               [5.37663459777832, 5.000244140625, 4.495688438415527],
                               rtol=1e-5)
    assert model.layers[1].seed_generator.state.numpy().tolist() == [448817265, 12]
    d = L.Dropout(0.5, seed=5)
    f = tf.function(lambda v: d(v, training=True))
    assert [f(tf.ones([6])).numpy().tolist() for _ in range(3)] == [
        [0, 2, 2, 0, 2, 0], [2, 2, 0, 2, 2, 0], [0, 2, 0, 2, 2, 0]]


def test_noise_layers_keep_tf_global_stream_before_set_random_seed():
    def run():
        tf.random.set_seed(4)
        layer = L.Dropout(0.5)
        assert layer.seed_generator is None
        return [layer(tf.ones([16]), training=True).numpy() for _ in range(2)]
    np.testing.assert_array_equal(run(), run())


def test_augmentation_layers_match_tf():
    keras.utils.set_random_seed(7)
    img = np.arange(60, dtype="float32").reshape(3, 4, 5, 1)
    flip = _r(L.RandomFlip()(img, training=True)[..., 0])
    # image 0 flipped both ways (one draw per image), the others kept
    assert flip == [img[0, ::-1, ::-1, 0].tolist(), img[1, ..., 0].tolist(),
                    img[2, ..., 0].tolist()]
    crop = L.RandomCrop(2, 3)(img, training=True)
    np.testing.assert_array_equal(crop, img[:, 2:4, 1:4])
    assert _r(L.RandomContrast(0.5)(img, training=True)[:, 0, :2, 0], 4) == \
        [[0.0, 0.0], [17.161, 18.4599], [36.38, 37.7611]]
    assert _r(L.RandomBrightness(0.3)(img, training=True)[:, 0, :2, 0], 3) == \
        [[39.067, 40.067], [0.0, 0.0], [45.357, 46.357]]
    rot = L.RandomRotation(0.2, fill_mode="constant")(img, training=True)
    np.testing.assert_allclose(rot[0, :2, :, 0], [
        [5.022, 6.097, 3.203, 1.195, 0.046], [13.189, 10.295, 7.401, 4.507, 2.172]],
        atol=2e-3)
    assert random.random() == pytest.approx(0.8212742919913083, abs=0)


def _default_seeds_taken(make):
    keras.utils.set_random_seed(5)
    make()
    value = random.random()
    for k in range(20):
        ref = random.Random(5)
        for _ in range(k):
            ref.randint(1, int(1e9))
        if ref.random() == value:
            return k
    return None


@pytest.mark.parametrize("make, taken", [
    (lambda: L.RandomCrop(4, 3), 2),          # Keras 3 keeps one as `seed`
    (lambda: L.RandomCrop(4, 3, seed=1), 0),
    (lambda: L.RandAugment(), 10),
    (lambda: L.AugMix(), 10),
    (lambda: L.AugMix(all_ops=False), 6),
    (lambda: L.AutoContrast(), 0),
    (lambda: L.Equalization(), 0),
    (lambda: L.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.2,
                                 saturation_factor=0.3, hue_factor=0.2), 5),
    (lambda: L.Dropout(0.3), 1),
    (lambda: L.Dropout(0.0), 0),
])
def test_default_seeds_taken_at_construction_as_tf(make, taken):
    assert _default_seeds_taken(make) == taken


def test_random_crop_config_keeps_its_default_seed():
    keras.utils.set_random_seed(5)
    layer = L.RandomCrop(4, 3)
    assert layer.get_config()["seed"] == random.Random(5).randint(1, int(1e9))


_FAKE_GPU = r"""
import fake_gpu_plugin  # noqa: F401
import numpy as np, cupy as cp, dlframe as tf
from dlframe import keras
from dlframe.ops import random_kernels
host_bits = random_kernels._stateless_bits
def no_host_seed(d, seed):   # the CPU reference reads its seed; a GPU draw may not
    assert not d.is_gpu, "a stateless uniform/normal read its seed on the host"
    return host_bits(d, seed)
random_kernels._stateless_bits = no_host_seed
for dtype in ("float16", "float32", "float64"):
    for seed in ([7, 0], [-5, 2**31 - 1]):
        for sdt in ("int32", "int64"):
            s = tf.constant(seed, sdt)
            for op, name in ((tf.random.stateless_uniform, "uniform"),
                             (tf.random.stateless_normal, "normal")):
                got = op([3, 5], s, dtype=dtype).numpy()
                with tf.device("/CPU:0"):
                    want = op([3, 5], tf.constant(seed, sdt), dtype=dtype).numpy()
                assert np.array_equal(got, want), (dtype, seed, sdt, name)
keras.utils.set_random_seed(21)
model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dropout(0.4), keras.layers.GaussianNoise(0.2),
                          keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
x = np.random.RandomState(0).randn(64, 5).astype("float32")
hist = model.fit(x, x.sum(1, keepdims=True), epochs=3, batch_size=16, shuffle=False,
                 verbose=0)
np.testing.assert_allclose(hist.history["loss"],
                           [5.37663459777832, 5.000244140625, 4.495688438415527],
                           rtol=1e-5)
layer = keras.layers.Dropout(0.5, seed=5)
step = tf.function(lambda v: layer(v, training=True))
ones = tf.ones([6])
first = step(ones).numpy().tolist()
with cp.cuda.fake_capture():   # the traced draw reads nothing on the host
    out = step(ones)
assert first == [0, 2, 2, 0, 2, 0], first
assert out.numpy().tolist() == [2, 2, 0, 2, 2, 0], out.numpy()
print("SEEDED-OK")
"""


def test_seeded_layer_draws_stay_on_a_fake_gpu():
    assert "SEEDED-OK" in run_script(_FAKE_GPU)


def test_seed_mod_is_an_exact_floored_modulo():
    from dlframe.ops import random as ops_random
    x = np.array([0, 1, -1, 2**31 + 5, -2**31, 2**62 + 12345, -2**62 - 7, 2**63 - 1,
                  -2**63], dtype=np.int64)
    for m in (2**31 - 2, 933199, 7):
        got = ops_random.seed_mod(tf.constant(x), m).numpy()
        assert got.tolist() == [int(v) % m for v in x.tolist()]
    folded = ops_random.seed_mod(tf.constant([2**31 + 5, -1], tf.int64), 2**31 - 2,
                                 tf.int32)
    assert folded.dtype == tf.int32 and folded.numpy().tolist() == [7, 2**31 - 3]
    with pytest.raises(ValueError, match="modulus"):
        ops_random.seed_mod(tf.constant([1, 2]), 0)


@pytest.mark.parametrize("make, total, head", [
    (lambda: L.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.2,
                                 saturation_factor=0.3, hue_factor=0.2),
     104508.0, [212.2, 218.33, 217.49]),
    (lambda: L.RandomHue(0.2), 73288.4, [141.49, 182.37, 139.95]),
    (lambda: L.RandomSaturation(0.3), 106461.5, [173.64, 182.37, 176.47]),
    (lambda: L.RandomShear(0.2), 73070.4, [139.95, 182.37, 153.70]),
    (lambda: L.RandomPosterization(4), 52480.0, [128.0, 128.0, 128.0]),
    (lambda: L.Solarization(0.2, 0.3), 57808.7, [75.05, 32.62, 61.29]),
    (lambda: L.RandomGaussianBlur(), 68583.4, [85.19, 106.88, 90.11]),
])
def test_color_shear_and_blur_layers_match_tf(make, total, head):
    x = np.random.RandomState(0).uniform(0, 255, (3, 8, 8, 3)).astype("float32")
    keras.utils.set_random_seed(2)
    out = np.asarray(make()(x, training=True))
    assert float(np.abs(out).sum()) == pytest.approx(total, abs=0.1)
    np.testing.assert_allclose(out.reshape(-1)[:3], head, atol=0.01)


def test_unknown_batch_signature_and_dataset_map_match_tf():
    keras.utils.set_random_seed(4)
    d = L.Dropout(0.5, seed=3)
    f = tf.function(lambda v: d(v, training=True),
                    input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    assert f(tf.ones([2, 4])).numpy().tolist() == [[0, 2, 2, 2], [0, 0, 0, 0]]
    assert f(tf.ones([3, 4])).numpy().tolist() == [[0, 2, 0, 2], [2, 0, 2, 0],
                                                   [0, 2, 2, 2]]
    images = np.arange(24, dtype="float32").reshape(6, 2, 2, 1)
    flip = L.RandomFlip(seed=9)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(3).map(lambda v: flip(v))
    assert [b.numpy()[:, 0, 0, 0].tolist() for b in ds] == [[0, 4, 11], [12, 19, 20]]


@pytest.mark.parametrize("kwargs, figures", [
    ({}, [(96361.2, 24), (94906.7, 99), (94216.8, 27)]),
    ({"fill_value": 7.0}, [(91616.3, 39), (93446.5, 30), (88632.8, 75)]),
])
def test_random_erasing_matches_tf(kwargs, figures):
    x = np.random.RandomState(0).uniform(0, 255, (4, 8, 8, 3)).astype("float32")
    keras.utils.set_random_seed(2)
    if kwargs:   # the second layer of the TF program: one default seed taken before
        L.RandomErasing()
    layer = L.RandomErasing(**kwargs)
    for total, changed in figures:
        out = np.asarray(layer(x, training=True))
        assert float(np.abs(out).sum()) == pytest.approx(total, abs=0.1)
        assert int((out != x).sum()) == changed
