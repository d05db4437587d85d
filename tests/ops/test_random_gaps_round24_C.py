"""Round 24 (C): random ops that now give TensorFlow 2.21's numbers.

Every expected figure below was printed by TF 2.21 (CPU) for the same call.
"""

import numpy as np
import pytest

import dlframe as tf


# ------------------------------------------------------------ index_shuffle
@pytest.mark.parametrize("index, seed, max_index, dtype, want", [
    (list(range(10)), [5, 7], 9, tf.int32, [2, 9, 3, 6, 5, 0, 1, 8, 7, 4]),
    (list(range(10)), [2**40 + 3, -5], 9, tf.int64, [7, 6, 0, 3, 2, 9, 4, 8, 1, 5]),
    (list(range(5)), [7, 8], 4, tf.int32, [3, 2, 1, 4, 0]),
    ([0, 1, 2], [-1, -1], 2**62, tf.int64,
     [939387293259005462, 939373725457242979, 939359607897666740]),
    ([0, 1, 2], [9, 4], 2**32 - 1, tf.uint32, [686216274, 682005835, 677828208]),
    ([0, 1, 2], [1, 2], 2**64 - 1, tf.uint64,
     [9698546790896702960, 9698546378579858665, 9698546258320758482]),
    ([0, 1, 2, 3], [1, 2], 65535, tf.int64, [55891, 35483, 18595, 10299]),
    # a power-of-two max_index gets TF's one-bit-short block: 65536 aliases 0
    ([0, 65536], [1, 2], 65536, tf.int64, [55891, 55891]),
])
def test_index_shuffle_gives_tf_positions(index, seed, max_index, dtype, want):
    got = tf.random.experimental.index_shuffle(
        tf.constant(index, dtype), seed, tf.constant(max_index, dtype))
    assert got.dtype == dtype
    assert got.numpy().tolist() == want


def test_index_shuffle_vector_max_index_and_scalar_match_tf():
    shuffle = tf.random.experimental.index_shuffle
    assert shuffle(tf.constant([0, 1, 2]), [3, 4], [100, 50, 2]).numpy().tolist() \
        == [67, 32, 0]
    assert int(shuffle(5, [3, 4], 100)) == 98
    compiled = tf.function(lambda i: shuffle(i, [5, 7], 9))
    assert compiled(tf.range(10)).numpy().tolist() == [2, 9, 3, 6, 5, 0, 1, 8, 7, 4]


# ---------------------------------------------------------------- Generator
def test_generator_int_uniform_with_empty_range_still_skips_the_state():
    gen = tf.random.Generator.from_seed(42)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval"):
        gen.uniform([2], minval=5, maxval=5, dtype=tf.int32)
    assert gen.state.numpy().tolist() == [554, 0, 0]   # TF: read-and-skip of 2 draws


@pytest.mark.parametrize("alg", ["auto_select", tf.random.Algorithm.AUTO_SELECT, 3])
def test_generator_auto_select_keeps_its_algorithm_and_draws_philox(alg):
    gen = tf.random.Generator.from_seed(5, alg=alg)
    assert gen.algorithm == 3
    assert gen.uniform([2]).numpy().tolist() == [0.5670160055160522, 0.20770859718322754]
    assert [g.algorithm for g in gen.split(2)] == [3, 3]
    assert tf.random.Generator.from_seed(5).algorithm == 1


def test_generator_full_int_draws_and_state_match_tf():
    gen = tf.random.Generator.from_seed(42)
    assert gen.uniform_full_int([3], dtype=tf.int64).numpy().tolist() == [
        -2783742675338139001, 5602131996525061434, 451090457747271402]
    assert gen.state.numpy().tolist() == [810, 0, 0]
    assert gen.uniform_full_int([3], dtype=tf.uint32).numpy().tolist() == [
        724584371, 2615771955, 1455006291]


# ------------------------------------------------------------------- AugMix
def _augmix_images():
    return (np.arange(2 * 8 * 8 * 3).reshape(2, 8, 8, 3) * 37 % 256).astype("float32")


def test_augmix_in_a_dataset_map_after_set_random_seed_matches_tf():
    keras = tf.keras
    imgs = _augmix_images()
    keras.utils.set_random_seed(7)
    layer = keras.layers.AugMix(value_range=(0, 255), num_chains=2, chain_depth=2)
    eager = layer(imgs, training=True).numpy()
    np.testing.assert_allclose(eager.reshape(-1)[:4], [0.0, 18.184, 57.601, 97.53],
                               atol=2e-3)
    assert abs(float(eager.sum()) - 45955.92) < 0.05
    keras.utils.set_random_seed(7)
    layer = keras.layers.AugMix(value_range=(0, 255), num_chains=2, chain_depth=2)
    ds = tf.data.Dataset.from_tensor_slices(imgs).batch(1).map(
        lambda x: layer(x, training=True))
    # TF traces the map once: its Python choices are those of the eager call
    sums = [float(b.numpy().sum()) for b in ds]
    np.testing.assert_allclose(sums, [22838.25, 23443.04], atol=0.05)


# ------------------------------------------- stateless seeds kept on a device
_DEVICE_SEED = """
import dlframe as tf
import cupy as cp
seed = tf.constant([3, 4])
logits = tf.math.log([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
with cp.cuda.fake_capture():   # a host read of the seed would raise here
    a = tf.random.stateless_uniform([5], seed, 0, 100, dtype=tf.int32)
    b = tf.random.stateless_uniform([3], seed, None, None, dtype=tf.uint32)
    c = tf.random.split(seed, 3)
    e = tf.random.fold_in(seed, 7)
    f = tf.random.stateless_categorical(logits, 6, seed)
assert "GPU" in a.device
print("OK", [v.numpy().tolist() for v in (a, b, c, e, f)])
"""


def test_stateless_int_split_fold_in_and_categorical_key_their_seed_on_the_gpu():
    from tests.test_fake_gpu_round19 import run_script
    out = run_script(_DEVICE_SEED)
    assert "OK" in out
    got = eval(out.split("OK", 1)[1])
    assert got == [[63, 97, 62, 99, 47], [2434737163, 3623740297, 2904307362],
                   [[-1860230133, -671226999], [-1390659934, 1052501199],
                    [-1503457849, -798298177]], [-1860230133, 7],
                   [[2, 2, 1, 2, 2, 2], [0, 0, 1, 0, 0, 1]]]   # TF 2.21's figures


# ------------------------------------- stateless_parameterized_truncated_normal
_PTN = tf.random.stateless_parameterized_truncated_normal


@pytest.mark.parametrize("shape, kwargs, want", [
    # normals in turn, kept inside the bounds
    ([10], {}, [0.544110119342804, 0.20738030970096588, 0.0735643208026886,
                0.04643455147743225, -1.301589846611023, -0.9538565278053284,
                0.8417285680770874, 1.9396867752075195, 0.6512577533721924,
                1.1048866510391235]),
    ([12], {"minvals": -0.5, "maxvals": 2.}, [
        0.544110119342804, 0.20738030970096588, 0.0735643208026886,
        0.04643455147743225, 0.8417285680770874, 1.9396867752075195,
        0.6512577533721924, 1.1048866510391235, 1.3746227025985718,
        1.148751974105835, 1.0821313858032227, 0.5510492324829102]),
    # a narrow interval: the uniform proposal
    ([9], {"minvals": 0.5, "maxvals": 1.0}, [
        0.9220302104949951, 0.5960226655006409, 0.9981116056442261,
        0.5801936984062195, 0.7196757197380066, 0.5423840880393982,
        0.6004840135574341, 0.5696041584014893, 0.8024842143058777]),
    # a tail: the exponential proposal; mirrored below the mean
    ([5], {"minvals": 3., "maxvals": 10.}, [
        3.0513298511505127, 3.001145601272583, 3.3942105770111084,
        3.6768383979797363, 3.2490196228027344]),
    ([5], {"minvals": -10., "maxvals": -3.}, [
        -3.0513298511505127, -3.001145601272583, -3.3942105770111084,
        -3.6768383979797363, -3.2490196228027344]),
    ([5], {"minvals": -float("inf"), "maxvals": -0.5}, [
        -0.6323659420013428, -0.5029544234275818, -1.516562581062317,
        -2.2453832626342773, -1.1421539783477783]),
    ([5], {"means": 1., "stddevs": 2., "minvals": -3., "maxvals": 5.}, [
        2.0882201194763184, 1.4147605895996094, 1.1471285820007324,
        1.0928690433502197, -1.603179693222046]),
])
def test_parameterized_truncated_normal_gives_tf_numbers(shape, kwargs, want):
    got = _PTN(shape, [1, 2], **kwargs)
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-7, atol=0)


def test_parameterized_truncated_normal_batches_read_the_stream_in_turn():
    got = _PTN([6, 3], [1, 2], means=[0., 1., -1.], stddevs=[1., 0.5, 2.],
               minvals=[0.5, 2.5, -30.], maxvals=[1., 9., -7.]).numpy()
    np.testing.assert_allclose(got[:, 1], [
        2.5760843753814697, 2.6577911376953125, 2.5797133445739746,
        2.5122742652893066, 2.564753770828247, 2.58284592628479], rtol=2e-7)
    np.testing.assert_allclose(got[:, 2], [
        -7.449295520782471, -7.132899284362793, -8.344436645507812,
        -7.13407564163208, -7.054896354675293, -7.540639877319336], rtol=2e-7)
    full = _PTN([2, 3], [1, 2], means=[[0., 1., 2.], [3., 4., 5.]], stddevs=1.,
                minvals=-1., maxvals=[[1., 2., 3.], [9., 9., 9.]])
    np.testing.assert_allclose(full.numpy(), [
        [0.6881208419799805, 1.6512577533721924, 2.55104923248291],
        [3.88857102394104, 3.2695095539093018, 5.20318078994751]], rtol=2e-7)


def test_parameterized_truncated_normal_float64_matches_tf():
    f64 = lambda v: tf.constant(v, tf.float64)   # noqa: E731
    got = _PTN([5, 2], [1, 2], means=f64([0., 0.]), stddevs=f64([1., 1.]),
               minvals=f64([-2., -2.]), maxvals=f64([2., 2.]))
    assert got.dtype == tf.float64
    np.testing.assert_allclose(got.numpy(), [
        [-0.1423118100189212, 0.6003592788009644],
        [0.7406072461585091, 0.13857589245913207],
        [-1.469047669443883, -0.5329399150182392],
        [1.147747453689489, 0.25550299305436924],
        [-0.7218813856153005, 0.5599101888331982]], rtol=1e-12)
    tail = _PTN([5], [1, 2], means=f64(0.), stddevs=f64(1.), minvals=f64(3.),
                maxvals=f64(10.))
    np.testing.assert_allclose(tail.numpy(), [
        3.0861020860508575, 3.5261370516429893, 3.2010290178599714,
        3.057472045221024, 3.052880784345263], rtol=1e-12)


def test_parameterized_truncated_normal_needs_parameters_ending_the_shape():
    with pytest.raises(tf.errors.InvalidArgumentError, match="must end with broadcasted"):
        _PTN([3, 4], [1, 2], means=[0., 1., 2.], stddevs=[1., 2., 3.],
             minvals=[-2., -1., 0.], maxvals=[2., 3., 9.])
