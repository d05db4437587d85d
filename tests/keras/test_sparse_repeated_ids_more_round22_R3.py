"""IndexedSlices gradients with a repeated id in the optimizers beyond Adam, Adagrad
and RMSprop, as TF 2.21 (Keras 3) applies them: the squared term of Nadam, Adadelta,
Ftrl, Adafactor, Lamb, Adam(amsgrad=True) and centered RMSprop adds the squares of an id's
rows (Adamax: their absolute values), Lion stays linear (the summed rows), and
``clipnorm`` scales the rows by the norm of the slices' values (``global_clipnorm``
takes the global norm over the values, then densifies), ``clipvalue`` clips each row.
Expected values were printed by TensorFlow 2.21 for the same programs."""

import os
import subprocess
import sys

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

INIT = np.arange(15, dtype=np.float32).reshape(5, 3) / 10.0
ROWS = np.array([[1., 2., 3.], [0.5, -1., 2.], [3., 0., -1.]], np.float32)
ROWS_B = np.array([[1., 2., 3.], [0.5, -1., 2.], [2., 1., 1.]], np.float32)
STEP_IDS = [[1, 3, 1], [2, 4, 2], [0, 3, 4]]   # id 1, then id 2, named twice
DENSE = np.array([0.5, -0.25], np.float32)
K = keras.optimizers

# TF 2.21: the (5, 3) variable after three apply_gradients of the slices below
TF_ROWS = {
    "lamb":
        [[-0.080644, 0.019356, 0.119356], [-0.054884, 0.11944, 0.322558], [0.38859,
        0.532866, 0.694295], [0.587655, 1.312345, 0.787655], [1.017315, 1.467134,
        1.295801]],
    "nadam":
        [[-0.106856, -0.006856, 0.093144], [0.146675, 0.278786, 0.423338], [0.459918,
        0.589255, 0.729959], [0.682687, 1.217313, 0.882687], [0.990683, 1.410745,
        1.355106]],
    "adadelta":
        [[-0.001414, 0.098586, 0.198586], [0.298211, 0.398586, 0.499106], [0.598211,
        0.698586, 0.799106], [0.896703, 1.003297, 1.096703], [1.196598, 1.301414,
        1.399805]],
    "adamax":
        [[-0.0369, 0.0631, 0.1631], [0.122635, 0.222635, 0.411318], [0.514125, 0.614125,
        0.757062], [0.705721, 1.194279, 0.905721], [1.106778, 1.385875, 1.341828]],
    "ftrl":
        [[-0.099449, -0.099861, -0.099938], [0.144286, 0.238758, 0.387316], [-0.126333,
        -0.099689, -0.063167], [0.241388, 0.888232, 0.734686], [-0.194674,
        0.098773, -0.039809]],
    "ftrl_l":
        [[-0.095814, -0.098097, -0.099266], [0.138353, 0.224227, 0.372459], [-0.130352,
        -0.104621, -0.071114], [0.184498, 0.802524, 0.689183], [-0.199556,
        0.076655, -0.055957]],
    "adafactor":
        [[-0.048189, -0.037992, 0.076301], [0.18654, 0.318775, 0.451459], [0.452142,
        0.59415, 0.736742], [0.831579, 1.195929, 0.86582], [1.003594, 1.413158,
        1.309497]],
    "adam_ams":
        [[-0.063881, 0.036119, 0.136119], [0.023346, 0.181286, 0.361673], [0.433151,
        0.568094, 0.716575], [0.656057, 1.243944, 0.856056], [1.055748, 1.431906,
        1.317919]],
    "adamw_ams":
        [[-0.063881, 0.035999, 0.135879], [0.023121, 0.180913, 0.361141], [0.432469,
        0.567284, 0.715634], [0.655084, 1.242637, 0.854843], [1.054338, 1.430317,
        1.316269]],
    "rms_centered":
        [[-0.333333, -0.233333, -0.133333], [-0.136436, 0.066667, 0.295876], [0.163564,
        0.366667, 0.595876], [0.238527, 1.661474, 0.438526], [0.531487, 1.633333,
        1.262934]],
    "rms_centered_mom":
        [[-0.333333, -0.233333, -0.133333], [-0.463763, -0.183333, 0.142783], [-0.054654,
        0.2, 0.493814], [-0.011473, 1.911474, 0.188526], [0.36482, 1.8, 1.096267]],
    "lion":
        [[-0.1, 0.0, 0.1], [0.0, 0.1, 0.2], [0.4, 0.5, 0.6], [0.6, 1.3, 0.8], [1.0, 1.5,
        1.4]],
    "adam_clipvalue":
        [[-0.063881, 0.036119, 0.136119], [-0.00342, 0.1812, 0.439316], [0.413416,
        0.568066, 0.8], [0.656023, 1.248884, 0.851196], [1.040531, 1.431934,
        1.330105]],
    "rms_clipvalue":
        [[-0.316228, -0.216228, -0.116228], [-0.138529, 0.083772, 0.412294], [0.152786,
        0.383772, 0.8], [0.280882, 1.587391, 0.548722], [0.616511, 1.616228,
        1.313188]],
    "adagrad_clipvalue":
        [[-0.097849, 0.002151, 0.102151], [0.16341, 0.302151, 0.472682], [0.460124,
        0.602151, 0.8], [0.722459, 1.1773, 0.932213], [1.0227, 1.397849,
        1.372088]],
    "nadam_clipvalue":
        [[-0.106856, -0.006856, 0.093144], [0.131906, 0.278786, 0.466381], [0.443383,
        0.589255, 0.8], [0.682687, 1.206708, 0.905455], [1.004154, 1.410745,
        1.367346]],
}
# TF 2.21: the (5, 3) variable (raveled) and a dense (2,) bias after three steps of
# ROWS_B (rows 0 and 2 not orthogonal: the values' norm differs from the summed one)
TF_CLIP = {
    "sgd_clipnorm":
        [-0.039801, 0.020397, 0.080596, 0.180596, 0.280596, 0.340794, 0.480596, 0.580596,
        0.640794, 0.860198, 1.079603, 0.940794, 1.100496, 1.3, 1.280596, -0.3,
        0.15],
    "sgdm_clipnorm":
        [-0.039801, 0.020397, 0.080596, 0.091042, 0.191042, 0.22139, 0.420893, 0.520893,
        0.561191, 0.845273, 1.109454, 0.881092, 1.090546, 1.319901, 1.240794,
        -0.3875, 0.19375],
    "adam_clipnorm":
        [-0.063881, 0.036119, 0.136119, 0.00645, 0.10645, 0.223238, 0.422992, 0.522992,
        0.633115, 0.651199, 1.248803, 0.851196, 1.049668, 1.369894, 1.245564,
        -0.292315, 0.292314],
    "rms_clipnorm":
        [-0.316227, -0.216228, -0.116228, -0.124264, -0.024264, 0.1, 0.175736, 0.275736,
        0.4, 0.348728, 1.551277, 0.548722, 0.576084, 1.386811, 0.936331,
        -0.861005, 0.861003],
    "adam_gclip":
        [-0.063881, 0.036119, 0.136119, 0.081201, 0.181201, 0.2812, 0.468066, 0.568066,
        0.668066, 0.651199, 1.248803, 0.851196, 1.049668, 1.369894, 1.245564,
        -0.299994, 0.299991],
    "sgd_gclip":
        [-0.039557, 0.020885, 0.081328, 0.181328, 0.281328, 0.34177, 0.481328, 0.581328,
        0.64177, 0.860442, 1.079115, 0.94177, 1.101106, 1.3, 1.281328, -0.059336,
        0.029668],
    "adagrad_gclip":
        [-0.078109, 0.007143, 0.103372, 0.203372, 0.303372, 0.401939, 0.503372, 0.603372,
        0.701939, 0.800124, 1.139666, 0.939098, 1.05652, 1.316552, 1.265032,
        -0.1423, 0.085946],
    "lion_clipnorm":
        [-0.1, 0.0, 0.1, 0.0, 0.1, 0.2, 0.4, 0.5, 0.6, 0.6, 1.3, 0.8, 1.0, 1.3, 1.2, -0.3,
        0.3],
}
# TF 2.21: the first column of Embedding(5, 2) after fit on ids [[1, 1, 2], [1, 3, 3]]
TF_FIT = {
    "Nadam": [0.3, 0.116183, 0.21888, 0.094916, 0.3],
    "Adadelta": [0.3, 0.295468, 0.297169, 0.295985, 0.3],
    "Adamax": [0.3, 0.139475, 0.15377, 0.126769, 0.3],
    "Ftrl": [0.0, 0.128899, 0.140534, 0.111705, 0.0],
    "Adafactor": [0.3, 0.220629, 0.253315, 0.225272, 0.3],
    "AdamAms": [0.3, 0.031026, 0.154319, 0.033676, 0.3],
    "RMSpropCentered": [0.3, 0.106906, 0.24859, -0.000625, 0.3],
    "Lion": [0.3, 0.1, 0.1, 0.1, 0.3],
    "AdamClipnorm": [0.3, 0.046804, 0.191904, 0.017044, 0.3],
    "AdagradGclip": [0.3, 0.294678, 0.409813, 0.114636, 0.3],
    "RMSpropClipvalue": [0.3, 0.149643, 0.213198, 0.177236, 0.3],
}

MAKE = {
    "nadam": lambda: K.Nadam(0.1), "adadelta": lambda: K.Adadelta(1.0),
    "adamax": lambda: K.Adamax(0.1), "ftrl": lambda: K.Ftrl(0.1),
    "ftrl_l": lambda: K.Ftrl(0.1, l1_regularization_strength=0.01,
                             l2_regularization_strength=0.02,
                             l2_shrinkage_regularization_strength=0.03, beta=0.1),
    "adafactor": lambda: K.Adafactor(0.1), "lamb": lambda: K.Lamb(0.1),
    "adam_ams": lambda: K.Adam(0.1, amsgrad=True),
    "adamw_ams": lambda: K.AdamW(0.1, amsgrad=True),
    "rms_centered": lambda: K.RMSprop(0.1, centered=True),
    "rms_centered_mom": lambda: K.RMSprop(0.1, centered=True, momentum=0.5),
    "lion": lambda: K.Lion(0.1),
    "adam_clipvalue": lambda: K.Adam(0.1, clipvalue=1.5),
    "rms_clipvalue": lambda: K.RMSprop(0.1, clipvalue=1.5),
    "adagrad_clipvalue": lambda: K.Adagrad(0.1, clipvalue=1.5),
    "nadam_clipvalue": lambda: K.Nadam(0.1, clipvalue=1.5),
    "sgd_clipnorm": lambda: K.SGD(0.1, clipnorm=2.0),
    "sgdm_clipnorm": lambda: K.SGD(0.1, momentum=0.5, clipnorm=2.0),
    "adam_clipnorm": lambda: K.Adam(0.1, clipnorm=2.0),
    "rms_clipnorm": lambda: K.RMSprop(0.1, clipnorm=2.0),
    "adam_gclip": lambda: K.Adam(0.1, global_clipnorm=2.0),
    "sgd_gclip": lambda: K.SGD(0.1, global_clipnorm=2.0),
    "adagrad_gclip": lambda: K.Adagrad(0.1, global_clipnorm=2.0),
    "lion_clipnorm": lambda: K.Lion(0.1, clipnorm=2.0),
}


def _slices(rows, step, ids=None):
    return tf.IndexedSlices(tf.constant(rows * (step + 1)),
                            tf.constant(STEP_IDS[step] if ids is None else ids),
                            tf.constant([5, 3]))


def _train(name, sparse=True):
    """``(table, bias)`` after three steps; ``sparse=False`` sums the rows first."""
    opt, rows = MAKE[name](), ROWS_B if name in TF_CLIP else ROWS
    var, bias = tf.Variable(INIT), tf.Variable(np.zeros(2, np.float32))
    for step in range(3):
        g = _slices(rows, step)
        if not sparse:
            g = tf.math.unsorted_segment_sum(g.values, g.indices, 5)
        pairs = [(g, var)]
        if name in TF_CLIP:
            pairs.append((tf.constant(DENSE * (step + 1)), bias))
        opt.apply_gradients(pairs)
    if name in TF_CLIP:
        return np.concatenate([var.numpy().ravel(), bias.numpy()])
    return var.numpy()


@pytest.mark.parametrize("name", sorted(TF_ROWS) + sorted(TF_CLIP))
def test_repeated_ids_match_tf_2_21(name):
    got = _train(name)
    np.testing.assert_allclose(got, {**TF_ROWS, **TF_CLIP}[name], rtol=2e-5, atol=2e-6)
    dense = _train(name, sparse=False)
    if name == "lion":   # linear in the gradient: the summed rows give the same
        np.testing.assert_allclose(got, dense, rtol=1e-6, atol=1e-7)
    elif name != "lion_clipnorm":   # Lion's sign hides the clip's other norm
        # the square (or norm) of the summed rows gives another update
        assert not np.allclose(got, dense, rtol=1e-4, atol=1e-5)


DISTINCT = ["nadam", "adadelta", "adamax", "ftrl_l", "adafactor", "lamb", "adam_ams",
            "rms_centered_mom", "lion"]


@pytest.mark.parametrize("name", DISTINCT)
def test_distinct_ids_equal_the_dense_update(name):
    var, dense_var = tf.Variable(INIT), tf.Variable(INIT)
    opt, dense_opt = MAKE[name](), MAKE[name]()
    for step in range(3):
        g = _slices(ROWS[:2], step, ids=[step, 4])
        opt.apply_gradients([(g, var)])
        dense_opt.apply_gradients(
            [(tf.math.unsorted_segment_sum(g.values, g.indices, 5), dense_var)])
    # Adadelta squares ``ratio * g`` as ``ratio^2 * g^2``: one rounding apart
    np.testing.assert_allclose(var.numpy(), dense_var.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["nadam", "adadelta", "adamax", "ftrl", "adafactor",
                                  "adam_ams", "rms_centered", "adam_clipnorm"])
def test_traced_step_equals_tf(name):
    opt, var = MAKE[name](), tf.Variable(INIT)
    rows = ROWS_B if name in TF_CLIP else ROWS

    @tf.function
    def step(values, ids):
        opt.apply_gradients([(tf.IndexedSlices(values, ids, tf.constant([5, 3])), var)])

    for s in range(3):
        step(tf.constant(rows * (s + 1)), tf.constant(STEP_IDS[s]))
    # (clipnorm clips each variable alone: TF_CLIP's table holds without the bias)
    expect = np.reshape(TF_CLIP[name][:15], (5, 3)) if name in TF_CLIP else TF_ROWS[name]
    np.testing.assert_allclose(var.numpy(), expect, rtol=2e-5, atol=2e-6)


FIT = {"Nadam": lambda: K.Nadam(0.1), "Adadelta": lambda: K.Adadelta(1.0),
       "Adamax": lambda: K.Adamax(0.1), "Ftrl": lambda: K.Ftrl(0.1),
       "Adafactor": lambda: K.Adafactor(0.1), "AdamAms": lambda: K.Adam(0.1, amsgrad=True),
       "RMSpropCentered": lambda: K.RMSprop(0.1, centered=True),
       "Lion": lambda: K.Lion(0.1), "AdamClipnorm": lambda: K.Adam(0.1, clipnorm=0.5),
       "AdagradGclip": lambda: K.Adagrad(0.5, global_clipnorm=0.5),
       "RMSpropClipvalue": lambda: K.RMSprop(0.1, clipvalue=0.1)}


@pytest.mark.parametrize("name", sorted(FIT))
def test_fit_embedding_with_repeated_ids_matches_tf(name):
    model = keras.Sequential([
        keras.Input((3,), dtype="int32"),
        keras.layers.Embedding(
            5, 2, embeddings_initializer=keras.initializers.Constant(0.3)),
        keras.layers.Flatten(), keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile(FIT[name](), "mse")
    model.fit(np.array([[1, 1, 2], [1, 3, 3]]), np.array([[1.0], [0.0]], "float32"),
              epochs=2, batch_size=2, verbose=0, shuffle=False)
    table = model.layers[0].get_weights()[0]
    np.testing.assert_allclose(table[:, 0], TF_FIT[name], atol=2e-5)
    np.testing.assert_array_equal(table[:, 0], table[:, 1])


@pytest.mark.slow
def test_fake_gpu_gives_the_same_figures():
    """The GPU paths (a strict fake CuPy, in a subprocess) give TF's figures too."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.join(root, "tests", "fake_cupy"), root]),
        DLFRAME_DEVICE="gpu:0", DLFRAME_FAKE_GPU_COUNT="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         "-k", "repeated_ids_match or distinct_ids", os.path.abspath(__file__)],
        cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # the figures, the distinct ids and the fits (``-k`` matches ``repeated_ids``)
    count = len(TF_ROWS) + len(TF_CLIP) + len(DISTINCT) + len(FIT)
    assert f"{count} passed" in proc.stdout, proc.stdout[-500:]
