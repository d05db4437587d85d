"""TensorFlow-exact random numbers: Philox stateless ops, Generator, seeded ops.

Expected numbers marked "TF 2.21" were printed by TensorFlow 2.21 on CPU with the
same calls. Uniform and integer draws must match bit for bit; normal draws within
one float ulp (TF's Box-Muller calls glibc's logf/sinf/cosf, which are not
correctly rounded; dlframe rounds float64 results once).
"""

import math

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import philox

SEED = (1, 2)


@pytest.fixture(autouse=True)
def _clear_global_seed():
    yield
    tf.random.set_seed(None)


def _eq(x, expect):
    got = x.numpy()
    if got.dtype.kind == "V":  # bfloat16
        got = got.astype(np.float64)
    np.testing.assert_array_equal(got, np.asarray(expect, got.dtype).reshape(got.shape))


def _ulp1(x, expect):
    got = x.numpy()
    np.testing.assert_array_max_ulp(got, np.asarray(expect, got.dtype).reshape(got.shape),
                                    maxulp=1)


# ---------------------------------------------------------------- the bijection
def test_philox_known_answers():
    # Random123's published Philox4x32-10 known-answer vectors
    assert philox.philox_block((0, 0), 0) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C,
                                              0x9B00DBD8)
    ones = (1 << 128) - 1
    assert philox.philox_block((0xFFFFFFFF,) * 2, ones) == (0x408F276D, 0x41C83B0E,
                                                            0xA20BC7C6, 0x6D5451FD)
    ctr = 0x243F6A88 | 0x85A308D3 << 32 | 0x13198A2E << 64 | 0x03707344 << 96
    assert philox.philox_block((0xA4093822, 0x299F31D0), ctr) == (
        0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)


def test_vectorised_blocks_match_host_blocks_across_counter_carry():
    base = (1 << 64) - 3          # the low 64 bits wrap inside the range
    bits = philox.Bits(np, (5, 7), base)
    words = bits.words(4 * 8).reshape(8, 4)
    for i in range(8):
        assert tuple(words[i].tolist()) == philox.philox_block((5, 7), base + i)


def test_stateless_key_counter():
    key, counter = philox.stateless_key_counter(1, 2)
    # TF 2.21: stateless_random_get_key_counter([1, 2])
    assert key[0] | key[1] << 32 == 10413732777507651514
    assert counter == 17830669156045600267 << 64
    assert philox.stateless_key_counter(-1, 2) == philox.stateless_key_counter(
        (1 << 64) - 1, 2)


# ---------------------------------------------------------------- stateless ops
def test_stateless_uniform_floats_match_tf():
    # TF 2.21
    _eq(tf.random.stateless_uniform([2, 3], SEED),
        [0.8440604209899902, 0.19204533100128174, 0.9962232112884521,
         0.16038739681243896, 0.27199018001556396, 0.6493459939956665])
    _eq(tf.random.stateless_uniform([5], SEED, dtype=tf.float16),
        [0.54296875, 0.2353515625, 0.060546875, 0.8935546875, 0.1435546875])
    _eq(tf.random.stateless_uniform([5], SEED, dtype=tf.bfloat16),
        [0.34375, 0.8828125, 0.484375, 0.1484375, 0.1484375])
    _eq(tf.random.stateless_uniform([3], SEED, dtype=tf.float64),
        [0.7524837538451801, 0.9697857725627486, 0.17592233912897481])
    _eq(tf.random.stateless_uniform([5], (-7, 2**40), minval=-1.5, maxval=0.3),
        [0.12447774410247803, -0.5213111042976379, -0.36815953254699707,
         -1.4833928346633911, -0.9467160701751709])
    scalar = tf.random.stateless_uniform([], (3, 4))
    assert scalar.shape == () and float(scalar) == np.float32(0.24328744411468506)


def test_stateless_uniform_ints_match_tf():
    # TF 2.21
    _eq(tf.random.stateless_uniform([7], SEED, minval=-5, maxval=1000, dtype=tf.int32),
        [710, 819, 829, 169, 137, 95, 601])
    _eq(tf.random.stateless_uniform([3], SEED, minval=-2**62, maxval=2**62 + 12345,
                                    dtype=tf.int64),
        [2853194127853226540, -3020640380669426626, 3554217262881874010])
    full = {tf.int32: [1105988140, 1738052849, -335576002],
            tf.int64: [7464880146280614444, 1591045637757961278, -1057468755545501549],
            tf.uint32: [1105988140, 1738052849, 3959391294],
            tf.uint64: [7464880146280614444, 1591045637757961278, 17389275318164050067]}
    for dt, expect in full.items():
        x = tf.random.stateless_uniform([3], SEED, minval=None, maxval=None, dtype=dt)
        assert x.dtype == dt
        _eq(x, expect)


def test_stateless_normal_and_truncated_match_tf():
    # TF 2.21
    _ulp1(tf.random.stateless_normal([7], SEED),
          [0.544110119342804, 0.20738030970096588, 0.0735643208026886,
           0.04643455147743225, -1.301589846611023, -0.9538565278053284,
           0.8417285680770874])
    _ulp1(tf.random.stateless_normal([3], SEED, dtype=tf.float64),
          [-0.1423118100189212, 0.7406072461585091, -1.469047669443883])
    _ulp1(tf.random.stateless_normal([4], SEED, dtype=tf.float16),
          [0.5439453125, 0.2073974609375, 0.07354736328125, 0.04644775390625])
    _ulp1(tf.random.stateless_normal([3], (5, 6), mean=2.0, stddev=3.0),
          [5.071953296661377, 0.3836343288421631, 5.83866024017334])
    # truncated: groups of 4 (2 for float64) outputs, |z| >= 2 skipped
    _ulp1(tf.random.stateless_truncated_normal([9], SEED),
          [0.544110119342804, 0.20738030970096588, 0.0735643208026886,
           0.04643455147743225, 0.16820591688156128, -1.6850333213806152,
           0.24202857911586761, 1.703450322151184, 1.1060677766799927])
    _ulp1(tf.random.stateless_truncated_normal([5], SEED, dtype=tf.float64),
          [-0.1423118100189212, 0.7406072461585091, -0.552387756244845,
           -0.734450092480207, -0.39842023956588357])
    _ulp1(tf.random.stateless_truncated_normal([5], SEED, dtype=tf.float16),
          [0.5439453125, 0.2073974609375, 0.07354736328125, 0.04644775390625,
           0.168212890625])


def test_stateless_large_draws_match_tf():
    seed, at = (12345, -678), [0, 1, 4097, 65536, 100002]
    u = tf.random.stateless_uniform([100003], seed).numpy()
    # TF 2.21
    np.testing.assert_array_equal(u[at], np.float32(
        [0.4132697582244873, 0.20889806747436523, 0.5787194967269897,
         0.5286288261413574, 0.5024876594543457]))
    full = tf.random.stateless_uniform([100003], seed, minval=None, maxval=None,
                                       dtype=tf.uint32).numpy()
    assert int(full.astype(np.uint64).sum()) == 214465684857993            # TF 2.21
    assert int(np.bitwise_xor.reduce(full)) == 2438283907                  # TF 2.21
    t = tf.random.stateless_truncated_normal([100003], seed).numpy()
    np.testing.assert_array_max_ulp(t[at], np.float32(                      # TF 2.21
        [1.2853163480758667, 0.33951589465141296, -0.5406349301338196,
         1.241162896156311, -0.48623162508010864]), maxulp=1)
    n = tf.random.stateless_normal([100003], seed).numpy()
    np.testing.assert_array_max_ulp(n[at], np.float32(                      # TF 2.21
        [1.2853163480758667, 0.33951589465141296, -1.023021936416626,
         -0.8420455455780029, 0.5604559183120728]), maxulp=1)


def test_split_and_fold_in_match_tf():
    # TF 2.21
    s = tf.random.experimental.stateless_split(SEED, 3)
    assert s.dtype == tf.int32 and s.shape == (3, 2)
    _eq(s, [1105988140, 1738052849, -335576002, 370444179, 10670227, -246211131])
    f = tf.random.experimental.stateless_fold_in(SEED, 12)
    assert f.dtype == tf.int32
    _eq(f, [1105988140, 12])
    f64 = tf.random.fold_in(tf.constant([1, 2], tf.int64), tf.constant(2**40, tf.int64))
    _eq(f64, [7464880146280614444, 1099511627776])
    assert tf.random.split is tf.random.experimental.stateless_split


def test_stateless_eager_equals_function_and_is_deterministic():
    f = tf.function(lambda s: (tf.random.stateless_uniform([5], s),
                               tf.random.stateless_normal([5], s),
                               tf.random.stateless_truncated_normal([6], s),
                               tf.random.stateless_uniform([4], s, minval=0, maxval=9,
                                                           dtype=tf.int64)))
    for seed in ([1, 2], [-3, 9]):
        s = tf.constant(seed)
        eager = (tf.random.stateless_uniform([5], seed),
                 tf.random.stateless_normal([5], seed),
                 tf.random.stateless_truncated_normal([6], seed),
                 tf.random.stateless_uniform([4], seed, minval=0, maxval=9,
                                             dtype=tf.int64))
        for a, b, c in zip(f(s), f(s), eager):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_statistics_of_1e5_draws():
    n = 100000
    u = tf.random.stateless_uniform([n], (4, 5), dtype=tf.float64).numpy()
    assert abs(u.mean() - 0.5) < 5 / math.sqrt(12 * n) and 0 <= u.min() < u.max() < 1
    z = tf.random.stateless_normal([n], (4, 5)).numpy().astype(np.float64)
    assert abs(z.mean()) < 5 / math.sqrt(n) and abs(z.std() - 1) < 0.01
    t = tf.random.stateless_truncated_normal([n], (4, 5)).numpy().astype(np.float64)
    assert np.abs(t).max() < 2 and abs(t.mean()) < 5 / math.sqrt(n)
    assert abs(t.std() - 0.8796) < 0.01      # std of N(0, 1) truncated to (-2, 2)
    k = tf.random.stateless_uniform([n], (4, 5), minval=0, maxval=10,
                                    dtype=tf.int32).numpy()
    assert np.all(np.abs(np.bincount(k, minlength=10) / n - 0.1) < 0.01)


def test_stateless_bad_seed():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"seed must have shape \[2\]"):
        tf.random.stateless_uniform([2], seed=[1, 2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="`data` must be a scalar"):
        tf.random.fold_in(SEED, [1, 2])


# ---------------------------------------------------------------- Generator
def test_generator_sequence_matches_tf():
    g = tf.random.Generator.from_seed(1)
    assert g.state.numpy().tolist() == [1, 0, 0]                     # TF 2.21
    # TF 2.21: each draw advances the counter by 256 per output
    _eq(g.uniform([5]), [0.7874951362609863, 0.3906511068344116, 0.29263055324554443,
                         0.9921692609786987, 0.9581042528152466])
    assert g.state.numpy().tolist() == [1281, 0, 0]
    _ulp1(g.normal([3, 2]), [0.5261955857276917, 0.023847239091992378,
                             -0.1829415261745453, 0.974157452583313,
                             -0.7142140865325928, -0.19334547221660614])
    assert g.state.numpy().tolist() == [2817, 0, 0]
    _ulp1(g.truncated_normal([7], dtype=tf.float64),
          [-1.144751678894667, -0.16392340612263118, -0.818657468961491,
           1.4175674803505252, -0.10256784151230638, -1.477664428754875,
           -0.8578936605601003])
    _eq(g.uniform_full_int([4], dtype=tf.int64),
        [-4186614046594850019, 5487803088906590464, -6116624741510907973,
         5620198744496057343])
    full = g.uniform_full_int([3])
    assert full.dtype == tf.uint64
    _eq(full, [11377019576241859018, 3851369607790226634, 16061864496636677337])
    _eq(g.uniform([6], minval=-3, maxval=9, dtype=tf.int32), [7, 0, -3, 3, -3, -2])
    _eq(g.uniform([4], minval=-2.5, maxval=1.0),
        [-2.364943504333496, -0.22167444229125977, -0.10960531234741211,
         -0.0065228939056396484])
    _eq(g.make_seeds(3), [5590785060460580493, 3493092120222584987,
                          -6066988112610652830, 0, 0, 0])
    g.skip(10)
    assert g.state.numpy().tolist() == [12289, 0, 0]
    children = g.split(2)
    assert [c.state.numpy().tolist() for c in children] == [
        [0, 0, 52109026706296167], [0, 0, 3950727916240484342]]
    assert g.state.numpy().tolist() == [12801, 0, 0]
    _eq(children[1].uniform([3]), [0.5872253179550171, 0.021617531776428223,
                                   0.6606509685516357])
    g.reset_from_seed(77)
    _eq(g.uniform([2]), [0.8393048048019409, 0.8988375663757324])


def test_generator_states_from_seeds_state_and_key_counter():
    # TF 2.21: the seed's 64-bit words, lowest first, two's complement
    assert tf.random.Generator.from_seed(2**70 + 5).state.numpy().tolist() == [5, 64, 0]
    assert tf.random.Generator.from_seed(-3).state.numpy().tolist() == [-3, -1, -1]
    assert tf.random.create_rng_state(1234, "philox").numpy().tolist() == [1234, 0, 0]
    g = tf.random.Generator.from_state([5, 6, 7], alg="philox")
    _ulp1(g.normal([5]), [-1.287665843963623, 1.1990220546722412, 0.8679856657981873,
                          -0.0657668337225914, 1.3036978244781494])          # TF 2.21
    # the 128-bit counter carries from the low word into the high one
    g = tf.random.Generator.from_key_counter(key=9, counter=[-2, 3], alg="philox")
    _eq(g.uniform([9]), [0.3307921886444092, 0.5743237733840942, 0.43182528018951416,
                         0.23446118831634521, 0.6119307279586792, 0.9672460556030273,
                         0.767045259475708, 0.9943865537643433, 0.029805660247802734])
    assert g.state.numpy().tolist() == [2302, 4, 9]


def test_generator_in_function_advances_like_eager():
    gen, ref = tf.random.Generator.from_seed(3), tf.random.Generator.from_seed(3)
    f = tf.function(lambda: gen.uniform([4]))
    for _ in range(3):
        np.testing.assert_array_equal(f().numpy(), ref.uniform([4]).numpy())
    assert gen.state.numpy().tolist() == ref.state.numpy().tolist() == [3 + 3 * 1024, 0, 0]


# ---------------------------------------------------------------- seeded stateful ops
def test_set_seed_sequence_matches_tf():
    tf.random.set_seed(42)
    # TF 2.21: op seeds come from random.Random(42); key = 42, counter = op seed
    _eq(tf.random.uniform([5]), [0.6645621061325073, 0.44100677967071533,
                                 0.3528825044631958, 0.46448254585266113,
                                 0.0336604118347168])
    _eq(tf.random.uniform([5]), [0.6878912448883057, 0.48447883129119873,
                                 0.9309943914413452, 0.25218701362609863,
                                 0.7311539649963379])
    _ulp1(tf.random.normal([3]), [-0.5590973496437073, -0.5347213745117188,
                                  2.373033285140991])
    _ulp1(tf.random.truncated_normal([6]),
          [0.6564867496490479, -0.41305169463157654, 0.3399750590324402,
           -1.005627155303955, 1.6890493631362915, 1.1180436611175537])
    _eq(tf.random.uniform([4], maxval=100, dtype=tf.int32), [49, 35, 98, 98])
    # an op seed: one kernel per (op, dtype, seeds), continuing across calls
    _eq(tf.random.uniform([3], seed=7), [0.8627676963806152, 0.6567625999450684,
                                         0.9905458688735962])
    _eq(tf.random.uniform([3], seed=7), [0.3464757204055786, 0.9437165260314941,
                                         0.2607334852218628])
    _ulp1(tf.random.normal([3], seed=7), [-0.4527415633201599, -0.3004075288772583,
                                          -0.07882861793041229])
    _eq(tf.random.uniform([2], seed=7, dtype=tf.float64),
        [0.9021424253597159, 0.9243672693206022])
    _eq(tf.random.uniform([3], seed=7), [0.46504366397857666, 0.40202271938323975,
                                         0.5526877641677856])
    # dropout advances the random_uniform(seed=seed) stream as TF's does; its mask
    # comes from the device generator (speed), so only its form is TF's
    ones = tf.ones([8])
    for drop in (tf.nn.dropout(ones, 0.5), tf.nn.dropout(ones, 0.5, seed=7)):
        assert set(drop.numpy().tolist()) <= {0.0, 2.0}
    _eq(tf.random.uniform([3], seed=7), [0.4729187488555908, 0.36661648750305176,
                                         0.02158808708190918])
    tf.random.set_seed(42)
    _eq(tf.random.uniform([5]), [0.6645621061325073, 0.44100677967071533,
                                 0.3528825044631958, 0.46448254585266113,
                                 0.0336604118347168])


def test_seed_edge_cases_match_tf():
    # TF 2.21: no global seed -> DEFAULT_GRAPH_SEED; (0, 0) -> (0, 2**31 - 1);
    # global seeds reduced modulo 2**31 - 1
    _eq(tf.random.uniform([3], seed=11), [0.08955085277557373, 0.38965606689453125,
                                          0.5047136545181274])
    _eq(tf.random.uniform([3], seed=11), [0.28387653827667236, 0.6361337900161743,
                                          0.9091997146606445])
    tf.random.set_seed(0)
    _eq(tf.random.uniform([3]), [0.29197514057159424, 0.2065664529800415,
                                 0.5353907346725464])
    _eq(tf.random.uniform([3], seed=0), [0.01975703239440918, 0.0070421695709228516,
                                         0.189872145652771])
    tf.random.set_seed(2**40)
    _eq(tf.random.uniform([3]), [0.0074121952056884766, 0.4971487522125244,
                                 0.09939491748809814])


def test_traced_ops_match_tf():
    tf.random.set_seed(5)
    f = tf.function(lambda: tf.random.uniform([3], seed=3))
    # TF 2.21: a traced op keeps its own kernel state across calls
    _eq(f(), [0.2886784076690674, 0.6889241933822632, 0.6899440288543701])
    _eq(f(), [0.46891963481903076, 0.18237102031707764, 0.7651835680007935])
    h = tf.function(lambda: tf.random.uniform([3]))
    # TF 2.21: op seeds of a function graph count 0, 1, 2, ...
    _eq(h(), [0.18286478519439697, 0.6899895668029785, 0.6732248067855835])
    _eq(h(), [0.3876405954360962, 0.6976070404052734, 0.817644476890564])


def test_unseeded_draws_differ():
    a, b = tf.random.uniform([6]).numpy(), tf.random.uniform([6]).numpy()
    assert not np.array_equal(a, b)
    f = tf.function(lambda: tf.random.normal([6]))
    assert not np.array_equal(f().numpy(), f().numpy())
