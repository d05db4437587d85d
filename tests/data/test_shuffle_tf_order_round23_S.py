"""``Dataset.shuffle`` gives TF 2.21's orders for seeded pipelines.

The expected lists were printed by TensorFlow 2.21 for the same programs.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.data import seeds

Dataset = tf.data.Dataset


def _order(ds):
    return [int(v) for v in ds.as_numpy_iterator()]


@pytest.fixture(autouse=True)
def _no_global_seed():
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


def test_op_seed_orders_per_iteration_match_tf():
    ds = Dataset.range(10).shuffle(10, seed=3)
    assert _order(ds) == [4, 7, 2, 6, 8, 0, 3, 1, 5, 9]
    assert _order(ds) == [8, 6, 4, 1, 7, 9, 3, 0, 5, 2]
    assert _order(ds) == [8, 4, 9, 2, 5, 6, 7, 3, 1, 0]
    assert _order(ds) == [0, 6, 4, 8, 1, 3, 7, 5, 9, 2]


def test_fixed_order_without_reshuffle_matches_tf():
    ds = Dataset.range(10).shuffle(10, seed=3, reshuffle_each_iteration=False)
    assert _order(ds) == _order(ds) == [7, 2, 6, 8, 9, 1, 5, 3, 4, 0]
    ds = Dataset.range(20).shuffle(8, seed=1, reshuffle_each_iteration=False).repeat(2)
    assert _order(ds) == [7, 8, 3, 9, 2, 0, 1, 6, 11, 15, 10, 14, 17, 16, 18, 4, 19,
                          12, 13, 5] * 2


def test_buffer_smaller_than_data_matches_tf():
    ds = Dataset.range(30).shuffle(8, seed=1)
    assert _order(ds) == [0, 8, 5, 1, 2, 11, 13, 9, 6, 4, 15, 17, 14, 12, 19, 10, 18,
                          7, 21, 20, 23, 25, 28, 16, 26, 29, 27, 3, 24, 22]
    assert _order(ds) == [2, 5, 7, 8, 10, 3, 0, 1, 14, 13, 6, 12, 11, 15, 17, 4, 19,
                          22, 16, 18, 25, 23, 27, 20, 26, 29, 21, 28, 9, 24]
    first = _order(Dataset.range(100).shuffle(8, seed=1))
    assert first[:12] == [0, 8, 5, 1, 2, 11, 13, 9, 6, 4, 15, 17]
    assert first[-8:] == [98, 92, 93, 79, 97, 94, 96, 99]
    assert sorted(first) == list(range(100))


def test_repeat_and_take_continue_the_epoch_seeds():
    ds = Dataset.range(20).shuffle(8, seed=1)
    assert _order(ds.take(5).repeat(2)) == [0, 8, 5, 1, 2, 2, 5, 7, 8, 10]
    assert _order(Dataset.range(10).shuffle(10, seed=3).repeat(2)) == [
        4, 7, 2, 6, 8, 0, 3, 1, 5, 9, 8, 6, 4, 1, 7, 9, 3, 0, 5, 2]


def test_whole_dataset_buffer_and_oversized_buffer_agree_with_tf():
    expected = [7, 1, 10, 0, 2, 8, 5, 4, 3, 6, 9, 11]
    assert _order(Dataset.range(12).shuffle(-2, seed=4)) == expected
    assert _order(Dataset.range(12).shuffle(100, seed=4)) == expected


def test_global_seed_orders_match_tf():
    tf.random.set_seed(5)
    assert _order(Dataset.range(10).shuffle(10, seed=3)) == [8, 3, 0, 6, 7, 2, 9, 1, 5, 4]
    assert _order(Dataset.range(10).shuffle(10)) == [7, 5, 4, 1, 0, 9, 6, 3, 8, 2]
    assert _order(Dataset.range(10).shuffle(10)) == [1, 7, 4, 2, 3, 0, 8, 9, 5, 6]
    tf.random.set_seed(0)   # (0, 0) becomes (0, 2**31 - 1), as in TF
    assert _order(Dataset.range(10).shuffle(10, seed=0)) == [4, 9, 1, 0, 7, 3, 5, 2, 8, 6]


def test_structured_elements_move_together():
    ds = Dataset.from_tensor_slices(({"a": np.arange(6)}, np.arange(6.0) + 1)).shuffle(
        4, seed=9)
    pairs = [(int(a["a"]), float(b)) for a, b in ds.as_numpy_iterator()]
    assert all(b == a + 1 for a, b in pairs)
    assert sorted(a for a, _ in pairs) == list(range(6))


def test_unseeded_shuffles_are_permutations_that_vary():
    ds = Dataset.range(50).shuffle(16)
    orders = [_order(ds) for _ in range(3)]
    assert all(sorted(o) == list(range(50)) for o in orders)
    assert len({tuple(o) for o in orders}) > 1


def test_word_stream_crosses_chunk_boundaries_like_one_stream():
    from dlframe.ops import philox
    stream = seeds.philox_words((87654321, 3))
    got = [next(stream) for _ in range(200)]
    key, counter = philox.seed_key_counter(87654321, 3)
    want = []
    for b in range(50):
        want += philox.philox_block(key, philox.add_counter(counter, b))
    assert got == want
    # pass k of a reshuffling stage takes words 2k, 2k+1 of its stage's stream
    assert [seeds.shuffle_seeds((87654321, 3), k) for k in range(4)] == [
        tuple(want[2 * k:2 * k + 2]) for k in range(4)]
    assert seeds.shuffle_seeds((87654321, 3), 7, reshuffle=False) == (87654321, 3)


def test_text_dataset_from_directory_order_matches_tf(tmp_path):
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(13):
            (tmp_path / label / f"{i}.txt").write_text(f"{label} {i}")
    ds = tf.keras.utils.text_dataset_from_directory(str(tmp_path), seed=42)
    epochs = [[v.decode() for x, _ in ds for v in x.numpy()] for _ in range(2)]
    assert epochs[0] == [
        'cat 4', 'dog 6', 'cat 7', 'cat 1', 'cat 9', 'cat 8', 'cat 0', 'dog 9', 'dog 2',
        'dog 5', 'cat 10', 'dog 12', 'cat 2', 'dog 3', 'dog 8', 'dog 4', 'dog 11',
        'dog 0', 'dog 1', 'cat 6', 'cat 12', 'cat 3', 'dog 10', 'cat 5', 'cat 11',
        'dog 7']
    assert epochs[1] == [
        'cat 3', 'cat 5', 'cat 7', 'cat 8', 'dog 0', 'cat 11', 'dog 7', 'cat 6', 'cat 2',
        'cat 12', 'dog 6', 'cat 1', 'dog 2', 'cat 10', 'cat 9', 'dog 3', 'dog 4',
        'dog 12', 'dog 8', 'dog 1', 'dog 10', 'cat 0', 'dog 11', 'dog 5', 'cat 4',
        'dog 9']
