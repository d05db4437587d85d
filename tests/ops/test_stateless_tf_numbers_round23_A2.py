"""Categorical and Gamma draws give TensorFlow's numbers (round 23, A2).

Every expected figure was printed by TensorFlow 2.21 (CPU) running the same call.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.test_fake_gpu_round19 import run_script


def _ids(x):
    return np.asarray(x).tolist()


# 1000 equal logits: the index is floor(1000 u), which shows the uniforms' order
_TF_FLAT = [752, 969, 175, 855, 514, 607, 827, 213, 839, 821, 725, 376]


def test_stateless_categorical_reads_two_words_per_sample_row_after_row():
    z = tf.zeros([1, 1000])
    assert _ids(tf.random.stateless_categorical(z, 12, seed=[1, 2])) == [_TF_FLAT]
    assert _ids(tf.random.stateless_categorical(tf.zeros([3, 1000]), 4, seed=[1, 2])) \
        == [_TF_FLAT[0:4], _TF_FLAT[4:8], _TF_FLAT[8:12]]
    for dtype in (tf.float64, tf.float16):   # the logits' dtype does not change them
        assert _ids(tf.random.stateless_categorical(tf.zeros([2, 1000], dtype), 1,
                                                    seed=[1, 2])) == [[752], [969]]
    probs = np.array([[np.log(0.1), np.log(0.2), np.log(0.7), -np.inf],
                      [np.log(0.5), np.log(0.5), -np.inf, -np.inf]], np.float32)
    assert _ids(tf.random.stateless_categorical(probs, 12, seed=[5, 6])) == [
        [0, 2, 1, 2, 1, 1, 0, 2, 2, 2, 2, 0], [1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1]]


def test_stateless_categorical_odd_logits_as_tf():
    # +inf and NaN logits weigh 0; a row without a finite logit gives num_classes
    logits = np.array([[-np.inf, 1.0, np.inf], [np.nan, 1, 2], [-np.inf] * 3],
                      np.float32)
    assert _ids(tf.random.stateless_categorical(logits, 6, seed=[5, 6])) == [
        [1, 1, 1, 1, 1, 1], [1, 2, 2, 2, 2, 1], [3, 3, 3, 3, 3, 3]]
    rng = np.random.default_rng(0)
    wide = rng.normal(size=(1, 50)) * 30
    got = tf.random.stateless_categorical(wide, 2000, seed=[3, 4]).numpy()
    assert got.sum() == 94016   # float64 logits far apart: TF's sums as well
    row = (rng.normal(size=(1, 300)) * 3).astype(np.float32)
    got = tf.random.stateless_categorical(row, 300, seed=[3, 4]).numpy()
    assert got[0, :10].tolist() == [220, 209, 169, 220, 220, 197, 169, 24, 197, 169]
    assert got.sum() == 51623
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes should be "
                       "positive, got 0"):
        tf.random.stateless_categorical(tf.zeros([3, 0]), 2, seed=[1, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes"):
        tf.random.categorical(tf.zeros([3, 0]), 2, seed=2)
    assert tf.random.stateless_categorical(tf.zeros([0, 3]), 2, seed=[1, 2]).shape == \
        (0, 2)


def test_seeded_categorical_stream_advances_as_tf():
    tf.random.set_seed(4)
    z = tf.zeros([1, 1000])
    assert _ids(tf.random.categorical(tf.zeros([3, 1000]), 5, seed=7)) == [
        [916, 802, 326, 780, 836], [223, 259, 968, 879, 416], [577, 167, 335, 283, 187]]
    # the kernel reserved 2 * batch * ceil4(num_samples) outputs
    assert _ids(tf.random.categorical(z, 2, seed=7)) == [[624, 683]]
    # another output dtype or logits dtype is another kernel: its own stream
    assert _ids(tf.random.categorical(z, 2, seed=7, dtype=tf.int32)) == [[916, 802]]
    assert _ids(tf.random.categorical(tf.zeros([2, 1000]), 1, seed=7,
                                      dtype=tf.int32)) == [[839], [462]]
    assert _ids(tf.random.categorical(z, 2, seed=7, dtype=tf.int32)) == [[172, 288]]
    tf.random.set_seed(4)
    tf.random.categorical(z, 16, seed=7)
    assert _ids(tf.random.categorical(tf.zeros([1, 1000], tf.float64), 2, seed=7)) == \
        [[916, 802]]


_TF_GAMMA = {
    0.5: [0.0669536143541336, 0.6282354593276978, 0.18136732280254364,
          0.047589920461177826, 0.1735631376504898, 0.8720741271972656],
    1.0: [3.4994423389434814, 1.7193093299865723, 2.248735189437866,
          1.8935091495513916, 0.22994834184646606, 1.1978732347488403],
    2.0: [2.8172736167907715, 1.9241365194320679, 3.3360066413879395,
          2.218280553817749, 2.2619924545288086, 1.4950695037841797],
    0.2: [0.00029574267682619393, 0.14654220640659332, 0.002730143256485462,
          0.00018439165432937443, 0.004540157038718462, 0.4982753396034241],
}


@pytest.mark.parametrize("alpha", sorted(_TF_GAMMA))
def test_stateless_gamma_is_tf_bit_for_bit(alpha):
    got = tf.random.stateless_gamma([6], seed=[1, 2], alpha=alpha).numpy()
    assert got.tolist() == _TF_GAMMA[alpha]


def test_stateless_gamma_layout_dtypes_and_edges():
    # output [s, k] reads substream k * samples + s
    got = tf.random.stateless_gamma([2, 3], seed=[1, 2], alpha=[1.0, 2.0, 3.0])
    assert got.numpy().tolist() == [
        [3.4994423389434814, 3.3360066413879395, 3.403514862060547],
        [1.7193093299865723, 2.218280553817749, 2.4479711055755615]]
    scaled = tf.random.stateless_gamma([2, 3], seed=[1, 2], alpha=1.0, beta=[1., 2., 4.])
    np.testing.assert_allclose(scaled, [[3.49944, 1.12437, 0.05749],
                                        [1.71931, 0.94675, 0.29947]], atol=2e-5)
    wide = tf.random.stateless_gamma([3], seed=[1, 2], alpha=1.0, dtype=tf.float64)
    assert wide.numpy().tolist() == [3.4994423583437104, 1.7193092981478832,
                                     2.2487352006448047]
    small = tf.random.stateless_gamma([2], seed=[1, 2], alpha=[0.01, 0.01],
                                      dtype=tf.float64).numpy()
    np.testing.assert_allclose(small, [5.063063473216809e-76, 5.949498873803268e-18],
                               rtol=1e-12)
    half = tf.random.stateless_gamma([2], seed=[1, 2], alpha=[0.5, 3.0], dtype=tf.float16)
    assert half.numpy().tolist() == [0.06695556640625, 2.98828125]
    edge = tf.random.stateless_gamma([4], seed=[1, 2], alpha=[0.01, 0.0, -1.0, 1e-30])
    tiny = float(np.finfo(np.float32).tiny)
    assert edge.numpy()[[0, 1, 3]].tolist() == [tiny] * 3 and np.isnan(edge[2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must end with broadcasted"):
        tf.random.stateless_gamma([2, 3], seed=[1, 2], alpha=[[1.0, 1.0, 1.0]])


def test_seeded_gamma_stream_as_tf():
    tf.random.set_seed(3)
    first = tf.random.gamma([2], alpha=[1.0, 1.0, 1.0], seed=4).numpy()
    assert first.tolist() == [
        [0.8808948397636414, 1.368152141571045, 0.4698859453201294],
        [1.3547708988189697, 1.440904140472412, 0.1677801012992859]]
    # the stream moved on by the 6 outputs
    assert tf.random.gamma([3], alpha=[1.0], seed=4).numpy().tolist() == \
        [[0.987374484539032], [0.6436948180198669], [1.4686927795410156]]


def test_keras_random_gamma_beta_categorical_match_tf():
    keras.utils.set_random_seed(5)
    np.testing.assert_allclose(keras.random.gamma([4], alpha=0.7, seed=3),
                               [0.433216, 2.734195, 0.319466, 0.038761], atol=1e-6)
    np.testing.assert_allclose(keras.random.beta([4], alpha=0.2, beta=0.2, seed=3),
                               [0.804546, 0.868534, 0.116776, 0.341608], atol=1e-6)
    np.testing.assert_allclose(
        keras.random.beta([2, 2], alpha=[1.0, 2.0], beta=0.5, seed=4),
        [[0.782732, 0.430431], [0.972282, 0.783368]], atol=1e-6)
    assert _ids(keras.random.categorical(np.log([[0.2, 0.3, 0.5]]), 8, seed=5)) == \
        [[1, 2, 0, 2, 2, 2, 0, 2]]
    np.testing.assert_allclose(keras.random.gamma([3], alpha=2.0),
                               [2.139172, 1.476257, 0.744681], atol=1e-6)
    g = keras.random.SeedGenerator(9)
    np.testing.assert_allclose(keras.random.beta([3], 0.4, 0.4, seed=g),
                               [0.132388, 0.463602, 0.059387], atol=1e-6)
    assert _ids(keras.random.categorical(np.zeros([2, 100]), 3, seed=g)) == \
        [[38, 95, 80], [71, 3, 36]]


_FAKE_GPU = """
import numpy as np
import dlframe as tf
assert 'GPU' in tf.zeros([1]).device
cat = tf.random.stateless_categorical(tf.zeros([2, 1000]), 3, seed=[1, 2])
assert 'GPU' in cat.device and cat.numpy().tolist() == [[752, 969, 175], [855, 514, 607]]
g = tf.random.stateless_gamma([3], seed=[1, 2], alpha=0.5)
assert g.numpy().tolist() == [0.0669536143541336, 0.6282354593276978,
                              0.18136732280254364]
tf.random.set_seed(4)
assert tf.random.categorical(tf.zeros([1, 1000]), 2, seed=7).numpy().tolist() == \\
    [[916, 802]]
f = tf.function(lambda: tf.random.categorical(tf.zeros([1, 1000]), 2, seed=7))
assert f().numpy().tolist() == [[916, 802]] and f().numpy().tolist() == [[839, 462]]
p = tf.random.stateless_poisson([8], seed=[1, 2], lam=[30.0] * 4 + [3.0] * 4)
assert p.numpy().tolist() == [37, 34, 38, 45, 3, 6, 0, 6]
sh = tf.random.experimental.stateless_shuffle(tf.range(5), seed=[1, 2])
assert 'GPU' in sh.device and sh.numpy().tolist() == [0, 2, 1, 4, 3]
bi = tf.random.stateless_binomial([4], seed=[1, 2], counts=[1000., 10, 30, 5],
                                  probs=[0.5, 0.5, 0.95, 0.99])
assert bi.numpy().tolist() == [519, 6, 27, 5]
print("A2-OK")
"""


def test_fake_gpu_draws_the_same_numbers():
    assert "A2-OK" in run_script(_FAKE_GPU)


_TF_POISSON = {
    0.5: [3, 2, 1, 3, 0, 2, 0, 2], 3.0: [5, 5, 4, 6, 3, 6, 0, 6],
    9.0: [13, 9, 14, 11, 11, 13, 9, 10], 9.99: [14, 10, 14, 12, 12, 13, 10, 12],
    10.0: [14, 12, 15, 18, 7, 13, 10, 10], 30.0: [37, 34, 38, 45, 25, 35, 30, 29],
    200.0: [217, 209, 221, 217, 187, 208, 201, 199],
    1e4: [10121, 10104, 10147, 10118, 9907, 10058, 10005, 9990],
    0.0: [0] * 8, -1.0: [0] * 8,
}


@pytest.mark.parametrize("lam", sorted(_TF_POISSON))
def test_stateless_poisson_is_tf(lam):
    # Knuth's product of uniforms below rate 10, transformed rejection from there
    got = tf.random.stateless_poisson([8], seed=[1, 2], lam=lam)
    assert got.dtype == tf.int32 and got.numpy().tolist() == _TF_POISSON[lam]


def test_poisson_layout_streams_and_errors_as_tf():
    assert tf.random.stateless_poisson([2, 3], seed=[1, 2],
                                       lam=[1.0, 3.0, 9.0]).numpy().tolist() == \
        [[3, 4, 11], [3, 6, 13]]
    assert tf.random.stateless_poisson([3], seed=[1, 2], lam=30.0,
                                       dtype=tf.float64).numpy().tolist() == \
        [37.0, 34.0, 38.0]
    for lam in ([[1.0, 3.0, 9.0]], [[1.0], [3.0]]):
        with pytest.raises(tf.errors.InvalidArgumentError, match="must end with"):
            tf.random.stateless_poisson([2, 3], seed=[1, 2], lam=lam)
    tf.random.set_seed(3)
    assert tf.random.poisson([2], lam=[1.0, 3.0, 9.0], seed=4).numpy().tolist() == \
        [[1.0, 3.0, 7.0], [1.0, 4.0, 12.0]]
    assert tf.random.poisson([2], lam=[1.0, 3.0, 9.0], seed=4).numpy().tolist() == \
        [[1.0, 2.0, 13.0], [2.0, 2.0, 9.0]]
    assert tf.random.poisson([2], lam=[1.0, 3.0, 9.0], seed=4,
                             dtype=tf.int32).numpy().tolist() == [[1, 3, 7], [1, 4, 12]]


def test_shuffles_are_tf_fisher_yates():
    shuffle = tf.random.experimental.stateless_shuffle
    assert _ids(shuffle(tf.range(5), seed=[1, 2])) == [0, 2, 1, 4, 3]
    assert _ids(shuffle(tf.range(20), seed=[1, 2])) == [
        0, 15, 2, 4, 7, 1, 19, 14, 6, 11, 3, 8, 9, 12, 18, 16, 13, 17, 10, 5]
    assert _ids(shuffle(tf.reshape(tf.range(12), [6, 2]), seed=[1, 2])) == [
        [8, 9], [10, 11], [0, 1], [6, 7], [2, 3], [4, 5]]
    # a seeded stateful shuffle advances its stream by ceil((n - 1) / 4) blocks
    for n, first, after in ((5, [1, 0, 4, 3, 2], [9, 8, 3, 0, 7, 4, 5, 2, 1, 6]),
                            (14, [1, 12, 7, 6, 13, 0, 2, 4, 11, 8, 9, 3, 5, 10],
                             [3, 2, 4, 0, 9, 6, 5, 7, 8, 1]),
                            (1, [0], [1, 5, 3, 8, 0, 4, 7, 6, 9, 2])):
        tf.random.set_seed(3)
        assert _ids(tf.random.shuffle(tf.range(n), seed=4)) == first
        assert _ids(tf.random.shuffle(tf.range(10), seed=4)) == after
    tf.random.set_seed(3)
    assert _ids(tf.random.shuffle(tf.reshape(tf.range(12), [6, 2]), seed=4)) == [
        [6, 7], [2, 3], [0, 1], [10, 11], [4, 5], [8, 9]]
    unseeded = np.sort(tf.random.shuffle(tf.range(50)).numpy())
    assert unseeded.tolist() == list(range(50))


def test_generator_binomial_advances_its_state_as_tf():
    g = tf.random.Generator.from_seed(1234)
    g.normal([3])
    g.uniform([3])
    g.uniform([2], 0, 10, dtype=tf.int32)
    assert g.state.numpy().tolist() == [3282, 0, 0]
    draws = g.binomial([4], counts=[10., 20, 30, 40], probs=[.5, .5, .2, .9]).numpy()
    assert ((draws >= 0) & (draws <= [10, 20, 30, 40])).all()
    # 50 (samples + 3) outputs of 256 blocks for each (count, prob) pair
    assert g.state.numpy().tolist() == [208082, 0, 0]
    assert g.make_seeds(2).numpy().tolist() == [
        [-3806069103759440682, -4722838822193888003], [0, 0]]
    parts = g.split(2)
    assert [p.state.numpy().tolist() for p in parts] == [
        [0, 0, 7317619629159323971], [0, 0, -1980317061370236666]]
    np.testing.assert_allclose(parts[0].normal([2]), [-0.5988287925720215,
                                                      1.923391580581665], rtol=1e-6)
    for shape, counts, probs, blocks in (([2, 4], [10.] * 4, .5, 1000),
                                         ([2, 3], 10., .5, 450), ([1], [10.], .5, 200)):
        g = tf.random.Generator.from_seed(0)
        g.binomial(shape, counts=counts, probs=probs)
        assert g.state.numpy().tolist() == [256 * blocks, 0, 0]


def test_threefry_generator_state_and_refusal_as_tf():
    assert tf.random.create_rng_state(7, "threefry").numpy().tolist() == [7, 0]
    assert tf.random.create_rng_state(2**70 + 5, "threefry").numpy().tolist() == [5, 64]
    g = tf.random.Generator.from_seed(7, alg="threefry")
    assert g.state.numpy().tolist() == [7, 0] and g.algorithm == 2
    for draw in (lambda: g.normal([2]), lambda: g.uniform([2]), lambda: g.make_seeds(1),
                 lambda: g.split(1), lambda: g.skip(3)):
        with pytest.raises(tf.errors.UnimplementedError, match="ThreeFry"):
            draw()
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \[2\] are incompatible"):
        tf.random.Generator(state=[1, 2, 3], alg="threefry")
    with pytest.raises(ValueError, match=r"Shapes \(2,\) and \[3\] are incompatible"):
        tf.random.Generator(state=[1, 2], alg="philox")


def test_stateless_binomial_is_tf():
    # inversion (n min(p, 1-p) < 10) on substreams 42 blocks apart, BTRS on 256
    draw = tf.random.stateless_binomial
    assert _ids(draw([8], seed=[1, 2], counts=10., probs=0.5)) == [6, 6, 7, 7, 6, 6, 6, 2]
    assert _ids(draw([8], seed=[1, 2], counts=100., probs=0.95)) == \
        [93, 93, 91, 93, 94, 94, 90, 98]
    assert _ids(draw([16], seed=[1, 2], counts=1000., probs=0.5)) == [
        519, 510, 523, 519, 485, 509, 501, 498, 481, 508, 499, 493, 471, 478, 506, 538]
    assert _ids(draw([16], seed=[1, 2], counts=30., probs=0.5)) == [
        18, 17, 19, 22, 12, 17, 15, 15, 12, 16, 15, 14, 10, 18, 16, 21]
    assert _ids(draw([4], seed=[1, 2], counts=[1000., 10, 30, 5],
                     probs=[0.5, 0.5, 0.95, 0.99])) == [519, 6, 27, 5]
    assert _ids(draw([2, 3], seed=[1, 2], counts=[1000., 10., 1.], probs=0.5)) == \
        [[519, 7, 1], [510, 7, 0]]
    assert _ids(draw([3], seed=[1, 2], counts=[0., 5., 5.], probs=[0.5, 0., 1.])) == \
        [0, 0, 5]
    out = draw([3], seed=[1, 2], counts=20., probs=0.5, output_dtype=tf.float32)
    assert out.dtype == tf.float32 and _ids(out) == [13.0, 7.0, 13.0]
    coin = draw([64], seed=[1, 2], counts=1., probs=0.5).numpy()
    assert coin[:16].tolist() == [1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1]
    g = tf.random.Generator.from_seed(0)
    assert _ids(g.binomial([8], counts=10., probs=0.5)) == [5, 6, 6, 4, 3, 1, 4, 4]
    g = tf.random.Generator.from_seed(0)
    assert _ids(g.binomial([8], counts=1000., probs=0.5)) == \
        [499, 486, 494, 496, 498, 480, 505, 511]
    g = tf.random.Generator.from_seed(1234)
    g.skip(3 + 3 + 2)
    assert _ids(g.binomial([4], counts=[10., 20, 30, 40], probs=[.5, .5, .2, .9])) == \
        [7, 8, 8, 35]
    keras.utils.set_random_seed(5)
    assert _ids(keras.random.binomial([5], 10, 0.5, seed=3)) == [4.0, 5.0, 5.0, 6.0, 6.0]
