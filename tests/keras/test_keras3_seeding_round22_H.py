"""Keras 3 seeding: initial weights after ``keras.utils.set_random_seed`` equal TF 2.21's.

Every constant below was printed by TensorFlow 2.21 / Keras 3.15 (CPU) running the same
program with ``import tensorflow as tf``. In Keras 3 an initializer built with
``seed=None`` takes ``random.randint(1, 10**9)`` at construction and draws statelessly
with it; the ``NEXT_*`` constants are the next Python ``random`` draw TF left, which
pins how many default seeds a layer consumed.
"""

import random

import numpy as np
import pytest

import dlframe as tf

K = tf.keras
L = K.layers

# Python's random.randint(1, 10**9) sequence after random.seed(1), as TF 2.21 sees it
NEXT_AFTER_1, NEXT_AFTER_3 = 611178003, 861425549


def _lead(w, n=4):
    return np.asarray(w).ravel()[:n]


def _close(w, expected):
    # float32 rounding (QR and truncated-normal arithmetic differ in the last ulp)
    np.testing.assert_allclose(_lead(w, len(expected)), expected, rtol=2e-6, atol=2e-7)


def _next_seed():
    return random.randint(1, int(1e9))


@pytest.fixture
def seeded():
    K.utils.set_random_seed(1)


def test_dense_kernel_matches_tf(seeded):
    d = L.Dense(3)
    d.build((None, 2))
    _close(d.kernel, [-0.5280049443244934, 0.794081449508667, 0.9604876041412354,
                      -0.34344756603240967])
    np.testing.assert_array_equal(d.bias.numpy(), np.zeros(3, np.float32))
    assert _next_seed() == NEXT_AFTER_1   # one default seed, as Keras 3


def test_sequential_of_dense_matches_tf(seeded):
    m = K.Sequential([K.Input((4,)), L.Dense(5, activation="relu"), L.Dense(3),
                      L.Dense(1)])
    k1, k2, k3 = (layer.kernel for layer in m.layers)
    _close(k1, [-0.39355164766311646, 0.591873288154602, 0.7159053087234497,
                -0.2559906840324402])
    _close(k2, [0.1580684781074524, -0.16917508840560913, 0.5387294888496399,
                0.10986471176147461])
    _close(k3, [0.0059854984283447266, -0.255975604057312, -1.2150784730911255])
    assert _next_seed() == NEXT_AFTER_3


def test_conv2d_and_embedding_match_tf(seeded):
    c = L.Conv2D(4, 3)
    c.build((None, 5, 5, 2))
    _close(c.kernel, [-0.1606667935848236, 0.24163129925727844, 0.2922671139240265,
                      -0.10450777411460876])
    K.utils.set_random_seed(1)
    e = L.Embedding(10, 4)
    e.build((None, 3))
    _close(e.embeddings, [-0.02410001866519451, 0.03624469414353371,
                          0.043840061873197556, -0.015676163136959076])
    assert _next_seed() == NEXT_AFTER_1


@pytest.mark.parametrize("cls,kernel,recurrent", [
    (L.LSTM, [-0.27086079120635986, 0.4073551297187805, 0.49271970987319946,
              -0.17618486285209656],
     [0.14621424674987793, -0.028287068009376526, 0.2970001995563507,
      -0.2825183570384979]),
    (L.GRU, [-0.3048437833786011, 0.4584631323814392, 0.554537832736969,
             -0.19828954339027405],
     [0.1512240171432495, -0.029256263747811317, 0.30717626214027405,
      -0.2921982407569885]),
    # SimpleRNNCell takes its dropout seed before its initializers' seeds
    (L.SimpleRNN, [0.1689823865890503, -0.18085581064224243, 0.5759260654449463,
                   0.11745035648345947],
     [0.43971848487854004, -0.43561840057373047, 0.7678422331809998,
      0.16523480415344238]),
])
def test_recurrent_layers_match_tf(seeded, cls, kernel, recurrent):
    layer = cls(4)
    layer.build((None, 5, 3))
    _close(layer.cell.kernel, kernel)
    _close(layer.cell.recurrent_kernel, recurrent)   # orthogonal
    w = layer.cell.recurrent_kernel.numpy()
    if w.shape[0] == w.shape[1]:
        np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-5)
    assert _next_seed() == NEXT_AFTER_3   # kernel, recurrent kernel, dropout seed


def test_multi_head_attention_matches_tf(seeded):
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3)
    x = np.ones((1, 4, 5), np.float32)
    mha(x, x)
    kernels = [w for w in mha.weights if "kernel" in w.name]
    expected = [  # query, key, value, attention_output (one fresh seed each)
        [0.13480126857757568, -0.144273042678833, 0.4594300389289856,
         0.09369295835494995],
        [0.0036093592643737793, -0.1543591022491455, -0.7327198386192322,
         -0.4960579574108124],
        [-0.019571900367736816, -0.7281041741371155, -0.41273459792137146,
         0.5394098162651062],
        [-0.4633111357688904, -0.5092353820800781, 0.49721795320510864,
         0.3331112265586853]]
    assert len(kernels) == 4
    for w, e in zip(kernels, expected):
        _close(w, e)
    assert _next_seed() == 67760437   # 5 default seeds (no dropout sublayer seed)


def test_functional_model_weights_and_predictions_match_tf():
    K.utils.set_random_seed(7)
    inp = K.Input((6,), dtype="int32")
    x = L.Embedding(20, 8)(inp)
    x = L.Conv1D(8, 3, padding="same", activation="relu")(x)
    x = L.LSTM(6, return_sequences=True)(x)
    x = L.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)(x, x)
    x = L.GRU(5, return_sequences=True)(x)
    x = L.SimpleRNN(4)(x)
    out = L.Dense(2, activation="softmax")(x)
    m = K.Model(inp, out)
    w = m.weights
    assert len(w) == 22
    expected = {   # embeddings, conv, LSTM, MHA q/k/v/out, GRU, SimpleRNN, Dense kernels
        0: [-0.018258094787597656, 0.022987034171819687, 0.04539156332612038],
        1: [0.3029787838459015, 0.268142431974411, -0.22611016035079956],
        3: [0.42333731055259705, -0.16880697011947632, 0.03939253091812134],
        4: [-0.0973430871963501, 0.08404384553432465, 0.27390167117118835],
        6: [-0.5715475678443909, -0.23456206917762756, 0.621550440788269],
        8: [0.4243351221084595, -0.2723177373409271, 0.6411052942276001],
        10: [0.11311578750610352, 0.4440423250198364, -0.2754417359828949],
        12: [-0.007929861545562744, -0.4085097312927246, -0.24872460961341858],
        14: [0.4442670941352844, -0.18000581860542297, -0.3960212171077728],
        15: [-0.18270742893218994, 0.5336014628410339, 0.28518810868263245],
        17: [0.11216980218887329, 0.194921612739563, -0.45613253116607666],
        18: [-0.43442225456237793, 0.0978507325053215, 0.8721452951431274],
        20: [-0.10046720504760742, 0.34475231170654297, -0.7386176586151123],
    }
    for i, e in expected.items():
        _close(w[i], e)
    pred = m(np.arange(12).reshape(2, 6) % 20)
    np.testing.assert_allclose(
        np.asarray(pred).ravel(),
        [0.49732646346092224, 0.5026735663414001, 0.4999760091304779,
         0.5000240206718445], rtol=1e-5)
    assert _next_seed() == 449008935


def test_untrained_model_predictions_match_tf():
    K.utils.set_random_seed(3)
    m = K.Sequential([K.Input((3,)), L.Dense(4, activation="tanh"), L.Dense(2)])
    pred = m.predict(np.array([[1., 2., 3.], [-1., 0.5, 2.]], np.float32), verbose=0)
    np.testing.assert_allclose(
        pred.ravel(), [0.315317839384079, -1.7584145069122314, 0.6294796466827393,
                       -1.503245234489441], rtol=1e-5)


STANDALONE = [  # (factory, TF 2.21 leading values of a (3, 4) draw)
    (lambda: K.initializers.GlorotNormal(),
     [-0.7597458958625793, 0.6484462022781372, 0.18055668473243713, -0.11980634927749634]),
    (lambda: K.initializers.HeUniform(),
     [0.25812482833862305, -0.2762618064880371, 0.8797415494918823, 0.17940831184387207]),
    (lambda: K.initializers.RandomNormal(),
     [0.035809703171253204, -0.04646531492471695, 0.1427459567785263, 0.08543109148740768]),
    (lambda: K.initializers.TruncatedNormal(),
     [0.002664888510480523, 0.05994100123643875, -0.0651443600654602,
      0.057565148919820786]),
    (lambda: K.initializers.Orthogonal(),
     [0.8288103342056274, -0.04997773841023445, -0.39734095335006714,
      -0.39076337218284607]),
    (lambda: K.initializers.VarianceScaling(scale=2.0, mode="fan_out",
                                            distribution="uniform"),
     [0.26426756381988525, 1.158614993095398, 1.1972626447677612, -0.038993120193481445]),
    (lambda: K.initializers.RandomUniform(),
     [0.012173783034086227, -0.006867468357086182, 0.027146611362695694,
      -0.023952925577759743]),
    (lambda: K.initializers.LecunNormal(),
     [-0.07533831894397736, -0.7631984949111938, 0.3567456007003784, 0.7678773999214172]),
    (lambda: K.initializers.HeNormal(),
     [1.4274471998214722, -0.43760746717453003, -0.038178909569978714,
      0.08850342035293579]),
    (lambda: K.initializers.LecunUniform(),
     [0.28314876556396484, 0.248734712600708, -0.6985924243927002, 0.7719864845275879]),
    (lambda: K.initializers.GlorotUniform(),
     [0.9168789386749268, -0.2459801435470581, -0.5456757545471191, 0.8271894454956055]),
]


def test_standalone_initializers_match_tf(seeded):
    # constructed one after another: each takes the next default seed
    for factory, expected in STANDALONE:
        init = factory()
        first, again = init((3, 4)), init((3, 4))
        _close(first, expected)
        np.testing.assert_array_equal(first.numpy(), again.numpy())   # stateless
        assert init.get_config()["seed"] is None   # as Keras 3
    assert _next_seed() == 507069465


def test_clone_deserialize_and_dtypes_match_tf():
    K.utils.set_random_seed(5)
    init = K.initializers.HeNormal()
    clone = init.clone()   # a new default seed
    _close(init((2, 3)), [-0.8532429933547974, -0.2152598798274994, -1.5391056537628174,
                          0.48625731468200684])
    _close(clone((2, 3)), [-0.18213635683059692, -0.38748764991760254,
                           -0.7317249774932861, 0.0703679621219635])
    rebuilt = K.initializers.get(K.initializers.serialize(init))
    _close(rebuilt((2, 3)), [0.7711285352706909, 1.504084825515747, -0.330219566822052,
                             -1.615977168083191])
    half = K.initializers.GlorotUniform()((2, 3), dtype="float16")
    assert half.dtype == tf.float16
    np.testing.assert_allclose(half.numpy().ravel()[:4],
                               [-0.7939453125, 0.1630859375, 0.25, -0.2783203125])
    f64 = K.initializers.RandomNormal()((2, 3), dtype="float64")
    np.testing.assert_allclose(f64.numpy().ravel()[:4],
                               [0.02051335376417727, 0.10499261048346423,
                                -0.0006169608528767629, 0.17884994714354555], rtol=1e-12)


def test_seeded_orthogonal_matches_tf():
    # no set_random_seed needed: an explicit seed always draws statelessly
    _close(K.initializers.Orthogonal(seed=2)((4, 3)),
           [-0.7817789316177368, 0.37304967641830444, -0.35210102796554565,
            -0.22902552783489227])
    _close(K.initializers.Orthogonal(seed=2, gain=2.0)((3, 5)),
           [-1.5148711204528809, -0.4437880516052246, -1.1179561614990234,
            -0.11472693830728531])


def test_reused_initializer_instance_gives_equal_kernels(seeded):
    init = K.initializers.GlorotUniform()   # one default seed for both layers (TF 2.21)
    a, b = L.Dense(3, kernel_initializer=init), L.Dense(3, kernel_initializer=init)
    a.build((None, 2))
    b.build((None, 2))
    _close(a.kernel, [-0.5280049443244934, 0.794081449508667, 0.9604876041412354,
                      -0.34344756603240967])
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())
    assert _next_seed() == NEXT_AFTER_1


def test_string_initializer_takes_its_seed_at_layer_construction(seeded):
    layer = L.Dense(3, kernel_initializer="he_normal")
    layer.build((None, 2))
    _close(layer.kernel, [-1.4213544130325317, 1.2131317853927612, 0.3377906382083893,
                          -0.22413715720176697])


def test_without_set_random_seed_global_seed_still_reproduces():
    # Keras 2 programs: tf.random.set_seed alone fixes the weights; no Python draws
    def build():
        tf.random.set_seed(0)
        random.seed(123)
        model = K.Sequential([K.Input((3,)), L.Dense(3), L.Dense(3)])
        lstm = L.LSTM(3)
        lstm.build((None, 2, 3))
        return [w.numpy() for w in model.weights + lstm.weights], _next_seed()
    (first, n1), (second, n2) = build(), build()
    assert len(first) == len(second) == 7
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    random.seed(123)
    assert n1 == n2 == _next_seed()   # Python's random untouched in this mode
    # two unseeded layers still differ, and an unseeded initializer redraws per call
    assert not np.array_equal(first[0], first[2])
    init = K.initializers.GlorotUniform()
    assert not np.array_equal(init((3, 3)).numpy(), init((3, 3)).numpy())


def test_conv_variants_and_wrappers_take_keras3_seeds(seeded):
    # depthwise/separable convs take no seed for an unused Conv kernel initializer
    d = L.DepthwiseConv2D(3)
    d.build((None, 5, 5, 2))
    _close(d.kernel, [-0.2272171527147293, 0.34171822667121887, 0.4133280813694])
    assert _next_seed() == NEXT_AFTER_1
    K.utils.set_random_seed(1)
    sep = L.SeparableConv2D(2, 3)
    sep.build((None, 5, 5, 2))
    _close(sep.depthwise_kernel, [-0.2272171527147293, 0.34171822667121887,
                                  0.4133280813694])
    _close(sep.pointwise_kernel, [0.2235426902770996, -0.23924976587295532,
                                  0.7618786096572876])
    assert _next_seed() == 909925048
    K.utils.set_random_seed(1)
    conv_lstm = L.ConvLSTM1D(2, 3)   # its cell takes the dropout seed first
    conv_lstm.build((None, 4, 5, 2))
    _close(conv_lstm.cell.kernel, [0.08162623643875122, -0.0873616635799408,
                                   0.2781987190246582])
    _close(conv_lstm.cell.recurrent_kernel, [0.23043906688690186, -0.37887832522392273,
                                             0.17650558054447174])
    assert _next_seed() == NEXT_AFTER_3
    K.utils.set_random_seed(1)
    bidi = L.Bidirectional(L.LSTM(3))
    bidi.build((None, 4, 2))
    expected = [[-0.017348647117614746, -0.6453953981399536, -0.3658501207828522],
                [0.4634305238723755, -0.027945129200816154, -0.22217382490634918], None,
                [0.15939223766326904, -0.08991628885269165, 0.3554326295852661],
                [-0.03177225589752197, 0.1504494696855545, -0.45796310901641846]]
    for w, e in zip(bidi.weights, expected):
        if e is not None:
            _close(w, e)
    assert _next_seed() == 817077202


def test_einsum_dense_fans_from_kernel_axes_as_keras_3_15(seeded):
    e = L.EinsumDense("ab,bcd->acd", output_shape=(4, 2))
    e.build((None, 3))   # fan_in 3, fan_out 4 * 2
    _close(e.kernel, [-0.35598084330558777, 0.5353695750236511, 0.6475606560707092])
    assert _next_seed() == NEXT_AFTER_1
    seeded_init = K.initializers.GlorotUniform(seed=3)
    e = L.EinsumDense("abc,cd->abd", output_shape=(None, 4),
                      kernel_initializer=seeded_init)
    e.build((None, 2, 3))
    _close(e.kernel, [-0.5630600452423096, 0.8135093450546265, 0.05976206064224243])
    assert seeded_init.input_axes is None   # the layer used a copy


def test_seed_generator_seed_advances_and_round_trips():
    init = K.initializers.RandomNormal(seed=K.random.SeedGenerator(3))
    first, second = init((2, 2)), init((2, 2))   # TF 2.21: the generator advances
    _close(first, [-0.03357924148440361, 0.08380252122879028, -0.04721227288246155,
                   0.030396947637200356])
    _close(second, [-0.058765120804309845, -0.025209376588463783, -0.025063520297408104,
                    -0.07150589674711227])
    config = init.get_config()
    assert config["seed"]["class_name"] == "SeedGenerator"
    assert config["seed"]["config"]["seed"] == 3
    rebuilt = K.initializers.RandomNormal.from_config(config)
    _close(rebuilt((2, 2)), _lead(first))
    glorot = K.initializers.GlorotUniform(seed=K.random.SeedGenerator(4))
    _close(glorot((2, 2)), [0.19742333889007568, 0.9939755201339722, -0.5201711058616638,
                            0.661358118057251])


@pytest.mark.parametrize("bad", ["x", 1.5])
def test_bad_initializer_seed_raises_value_error(bad):
    with pytest.raises(ValueError, match="SeedGenerator.*or an integer"):
        K.initializers.RandomNormal(seed=bad)


def test_set_random_seed_rejects_non_int():
    with pytest.raises(ValueError, match="seed"):
        K.utils.set_random_seed(1.5)
