"""Keras 3 MixUp, CutMix, RandAugment and AugMix draw TF 2.21's numbers (round 23, A2).

After ``keras.utils.set_random_seed`` the layers draw from their own
``SeedGenerator`` in Keras 3's order; every expected figure was printed by
TensorFlow 2.21 / Keras 3.15 running the same program.
"""

import numpy as np
import pytest

from dlframe import keras

L = keras.layers


def _r(a, digits=2):
    return np.round(np.asarray(a, dtype="float64"), digits).tolist()


def _ramp():
    return np.arange(4 * 5 * 6 * 2, dtype="float32").reshape(4, 5, 6, 2)


def test_mixup_shuffles_then_draws_beta_from_its_seed_state():
    x, y = _ramp(), np.eye(4, dtype="float32")
    keras.utils.set_random_seed(7)
    layer = L.MixUp(alpha=0.3, seed=11)
    out = layer({"images": x, "labels": y}, training=True)
    assert _r(out["labels"], 5) == MIXUP_LABELS
    assert _r(out["images"][:, 0, 0, 0], 4) == MIXUP_IMAGES
    assert _r(layer(x, training=True)[:, 1, 2, 1], 4) == MIXUP_AGAIN


def test_cutmix_box_and_labels_as_keras3():
    x, y = _ramp(), np.eye(4, dtype="float32")
    keras.utils.set_random_seed(7)
    L.MixUp(alpha=0.3, seed=11)
    layer = L.CutMix(factor=1.0, seed=5)
    out = layer({"images": x, "labels": y}, training=True)
    assert _r(out["labels"], 5) == CUTMIX_LABELS
    assert np.asarray(out["images"])[:, :, :, 0].astype(int).tolist() == CUTMIX_IMAGES
    # the labels weigh the box's real-valued area, summing to one
    np.testing.assert_allclose(np.asarray(out["labels"]).sum(1), 1.0, rtol=1e-6)


def test_unseeded_mixup_takes_a_default_seed_in_construction_order():
    x = _ramp()
    keras.utils.set_random_seed(7)
    L.MixUp(alpha=0.3, seed=11)
    L.CutMix(factor=1.0, seed=5)
    assert _r(L.MixUp()(x, training=True)[:, 1, 2, 1], 4) == MIXUP_DEFAULT


def _images():
    return np.random.default_rng(0).uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rand_augment_draws_indices_then_every_op_once(seed):
    x = _images()
    keras.utils.set_random_seed(seed)
    layer = L.RandAugment(num_ops=2, factor=0.5, seed=seed + 10)
    assert _r(layer(x, training=True)[:, :2, :2, 0]) == RAND_AUGMENT[seed][0]
    assert _r(layer(x, training=True)[:, :2, :2, 0]) == RAND_AUGMENT[seed][1]


@pytest.mark.parametrize("seed", [1, 2])
def test_aug_mix_draws_weights_then_the_chosen_ops(seed):
    x = _images()
    keras.utils.set_random_seed(seed)
    layer = L.AugMix(seed=seed + 10)
    assert _r(layer(x, training=True)[:, :2, :2, 0]) == AUG_MIX[seed][0]
    assert _r(layer(x, training=True)[:, :2, :2, 0]) == AUG_MIX[seed][1]


def test_aug_mix_basic_ops_with_default_seeds():
    keras.utils.set_random_seed(4)
    layer = L.AugMix(all_ops=False, num_chains=2, chain_depth=2, alpha=0.5)
    out = np.asarray(layer(_images(), training=True))
    assert _r(out[:, :2, :2, 0]) == AUG_MIX_BASIC
    assert out.min() >= 0 and out.max() <= 255


# from TF 2.21 / Keras 3.15
MIXUP_LABELS = [[0.34517, 0.65483, 0.0, 0.0], [0.22401, 0.77599, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
MIXUP_IMAGES = [39.2897, 46.5595, 120.0, 180.0]
MIXUP_AGAIN = [71.4605, 127.1693, 128.6284, 197.0]
CUTMIX_LABELS = [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0],
                 [0.0, 0.89562, 0.10438, 0.0], [0.0, 0.0, 0.0, 1.0]]
CUTMIX_IMAGES = [[[0, 2, 4, 6, 8, 10], [12, 14, 16, 18, 20, 22],
                  [24, 26, 28, 30, 32, 34], [36, 38, 40, 42, 44, 46],
                  [48, 50, 52, 54, 56, 58]],
                 [[120, 122, 124, 126, 128, 130], [132, 134, 136, 138, 140, 142],
                  [144, 146, 148, 150, 152, 154], [156, 158, 160, 162, 164, 166],
                  [168, 170, 172, 174, 176, 178]],
                 [[120, 122, 124, 126, 128, 130], [132, 74, 76, 78, 80, 82],
                  [144, 86, 88, 90, 92, 94], [156, 98, 100, 102, 104, 106],
                  [168, 110, 112, 114, 116, 118]],
                 [[180, 182, 184, 186, 188, 190], [192, 194, 196, 198, 200, 202],
                  [204, 206, 208, 210, 212, 214], [216, 218, 220, 222, 224, 226],
                  [228, 230, 232, 234, 236, 238]]]
MIXUP_DEFAULT = [17.0, 196.9998, 85.234, 146.4613]
RAND_AUGMENT = {1: ([[[173.16, 0.0], [165.02, 255.0]],
                     [[133.34, 147.71], [238.29, 206.03]]],
                    [[[128.0, 0.0], [128.0, 192.0]], [[128.0, 128.0], [192.0, 96.0]]]),
                2: ([[[181.43, 88.12], [189.22, 246.37]],
                     [[141.13, 144.7], [228.56, 222.41]]],
                    [[[0.0, 146.23], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]),
                3: ([[[154.26, 0.0], [148.49, 255.0]],
                     [[109.08, 126.29], [251.09, 210.92]]],
                    [[[127.34, 60.52], [124.56, 204.35]],
                     [[107.7, 107.7], [169.51, 185.44]]])}
AUG_MIX = {1: ([[[161.23, 18.29], [155.62, 244.2]],
                [[134.85, 147.96], [218.04, 196.28]]],
               [[[161.78, 5.54], [156.47, 247.22]],
                [[132.68, 144.9], [220.64, 192.86]]]),
           2: ([[[94.31, 167.09], [115.47, 170.26]],
                [[135.0, 175.26], [166.28, 149.12]]],
               [[[132.63, 44.79], [134.38, 204.94]],
                [[120.12, 137.49], [195.87, 179.19]]])}
AUG_MIX_BASIC = [[[139.93, 51.13], [108.29, 172.38]],
                 [[128.8, 122.54], [152.36, 133.33]]]
