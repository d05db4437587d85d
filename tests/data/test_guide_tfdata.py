"""The "tf.data: Build TensorFlow input pipelines" and "Load CSV data" guides' code:
generators with ragged signatures, pandas-style text columns, make_csv_dataset's
batching and column order, map's element_spec, and ``for x in dataset`` inside a
``tf.function``."""

import numpy as np
import pytest

import dlframe as tf


# ---------------------------------------------------------------- specs
def test_sparse_tensor_spec_prints_and_names_its_value_type():
    ds = tf.data.Dataset.from_tensors(tf.SparseTensor(indices=[[0, 0], [1, 2]],
                                                      values=[1, 2], dense_shape=[3, 4]))
    spec = ds.element_spec
    # as TF 2.21 prints it
    assert repr(spec) == "SparseTensorSpec(TensorShape([3, 4]), tf.int32)"
    assert spec.value_type is tf.SparseTensor


def test_from_generator_with_ragged_output_signature():
    def gen():
        for i in range(3):
            if i == 2:
                yield [[1, 1], [2]]   # nested lists convert too, as in TF
            else:
                yield tf.ragged.constant([[1] * i, [2]])
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.RaggedTensorSpec(shape=(2, None), dtype=tf.int32))
    assert isinstance(ds.element_spec, tf.RaggedTensorSpec)
    rows = [r.to_list() for r in ds]
    assert rows == [[[], [2]], [[1], [2]], [[1, 1], [2]]]
    assert all(r.dtype == tf.int32 for r in ds)


def test_from_generator_ragged_signature_rejects_a_bad_element():
    def gen():
        yield [[1], [2], [3]]   # three rows where the spec says two
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.RaggedTensorSpec(shape=(2, None), dtype=tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(ds)


def test_from_tensor_slices_of_an_object_column_of_str_gives_bytes():
    # a pandas text column is an object array of str: TF's elements are bytes
    column = np.array(["male", "female"], dtype=object)
    ds = tf.data.Dataset.from_tensor_slices({"sex": column, "age": [20.0, 21.0]})
    first = next(iter(ds))
    assert first["sex"].numpy() == b"male"
    assert f"{first['sex']}" == "b'male'"
    assert tf.constant(column).numpy().tolist() == [b"male", b"female"]


def test_map_spec_leaves_value_dependent_sizes_unknown():
    ds = tf.data.Dataset.range(1, 6).map(
        lambda x: (tf.fill([x], x), tf.fill([2, x], tf.cast(x, tf.float32))))
    a, b = ds.element_spec
    assert a.shape.as_list() == [None] and b.shape.as_list() == [2, None]
    # padded_batch keeps the known size (TF 2.21: (None, 2, None))
    spec = ds.padded_batch(2).element_spec
    assert spec[1].shape.as_list() == [None, 2, None]
    batches = list(ds.padded_batch(2).as_numpy_iterator())
    np.testing.assert_array_equal(batches[0][0], [[1, 0], [2, 2]])
    assert batches[2][1].shape == (1, 2, 5)


def test_bucket_by_sequence_length_pads_to_the_bucket_boundary():
    ds = tf.data.Dataset.range(1, 12).map(lambda x: tf.fill([x], x))
    buckets = ds.bucket_by_sequence_length(lambda e: tf.shape(e)[0], [4, 12], [3, 3, 3],
                                           pad_to_bucket_boundary=True)
    # TF 2.21: shapes (3, 3) then (3, 11) ... (lengths 1-3 pad to 3, 4-11 to 11)
    shapes = [b.shape for b in buckets.as_numpy_iterator()]
    assert shapes == [(3, 3), (3, 11), (3, 11), (2, 11)]


# ---------------------------------------------------------------- CSV
@pytest.fixture()
def titanic_csv(tmp_path):
    path = tmp_path / "titanic.csv"
    lines = ["survived,sex,age,fare,class"]
    for i in range(10):
        lines.append(f"{i % 2},{['male', 'female'][i % 2]},{20 + i}.0,{7.25 + i},"
                     f"{['First', 'Second', 'Third'][i % 3]}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_make_csv_dataset_repeating_forever_has_a_static_batch(titanic_csv):
    ds = tf.data.experimental.make_csv_dataset(titanic_csv, batch_size=4,
                                               label_name="survived", shuffle=False)
    features, label = ds.element_spec
    assert label.shape.as_list() == [4]
    assert features["age"].shape.as_list() == [4]
    once = tf.data.experimental.make_csv_dataset(titanic_csv, batch_size=4, num_epochs=1,
                                                 label_name="survived", shuffle=False)
    assert once.element_spec[1].shape.as_list() == [None]
    assert [len(y) for _, y in once.as_numpy_iterator()] == [4, 4, 2]


def test_make_csv_dataset_select_columns_follow_the_file_order(titanic_csv):
    ds = tf.data.experimental.make_csv_dataset(
        titanic_csv, batch_size=3, label_name="survived", num_epochs=1, shuffle=False,
        select_columns=["class", "fare", "survived"])
    features, label = next(iter(ds))
    assert list(features) == ["fare", "class"]
    np.testing.assert_allclose(features["fare"].numpy(), [7.25, 8.25, 9.25])
    assert label.numpy().tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="nope"):
        tf.data.experimental.make_csv_dataset(titanic_csv, batch_size=2,
                                              select_columns=["nope"])


# ---------------------------------------------------------------- tf.function loops
def test_for_loop_over_a_dataset_in_a_function_runs_every_call():
    @tf.function
    def total(ds):
        acc = tf.constant(0, tf.int64)
        for batch in ds:
            acc += tf.reduce_sum(batch)
        return acc

    ds = tf.data.Dataset.range(10).batch(3)   # the last batch is smaller
    assert total(ds).numpy() == 45
    assert total(ds).numpy() == 45            # replayed graph pulls again
    shuffled = tf.data.Dataset.range(7).shuffle(7).batch(2)
    assert total(shuffled).numpy() == 21


def test_for_loop_over_an_iterator_in_a_function_continues_it():
    it = iter(tf.data.Dataset.range(6).batch(2))
    next(it)   # eager: [0, 1]

    @tf.function
    def rest(iterator):
        acc = tf.constant(0, tf.int64)
        for x in iterator:
            acc += tf.reduce_sum(x)
        return acc

    assert rest(it).numpy() == 2 + 3 + 4 + 5


def test_training_loop_over_a_dataset_in_a_function_learns():
    xs = np.linspace(-1, 1, 32).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((xs, 3.0 * xs + 1.0)).batch(8)
    w, b = tf.Variable(0.0), tf.Variable(0.0)
    opt = tf.keras.optimizers.SGD(0.5)

    @tf.function
    def epoch(data):
        loss = tf.constant(0.0)
        for x, y in data:
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((w * x + b - y) ** 2)
            opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
        return loss

    for _ in range(30):
        last = epoch(ds)
    assert float(last) < 1e-3
    assert abs(float(w) - 3.0) < 0.05 and abs(float(b) - 1.0) < 0.05


def test_break_out_of_a_dataset_loop_in_a_function():
    @tf.function
    def first_big(ds):
        found = tf.constant(-1, tf.int64)
        for x in ds:
            if x > 3:
                found = x
                break
        return found

    assert first_big(tf.data.Dataset.range(10)).numpy() == 4


def test_from_generator_lists_at_signature_leaves_are_tensor_values():
    # the "Better performance with tf.data" guide's TimeMeasuredDataset yields a tuple
    # of nested lists, one per TensorSpec
    signature = (tf.TensorSpec((2, 1), tf.string), tf.TensorSpec((2, 2), tf.float32),
                 tf.TensorSpec((2, 3), tf.int32))

    def gen():
        yield ([("Open",), ("Read",)], [(1.5, 0.25), (2.5, 0.5)],
               [(np.int32(0), 0, -1), (0, 0, 0)])
    steps, times, values = next(iter(tf.data.Dataset.from_generator(
        gen, output_signature=signature)))
    assert steps.numpy().tolist() == [[b"Open"], [b"Read"]]
    np.testing.assert_allclose(times.numpy(), [[1.5, 0.25], [2.5, 0.5]])
    assert values.dtype == tf.int32 and values.numpy().tolist() == [[0, 0, -1], [0, 0, 0]]

    def short():
        yield ([("Open",), ("Read",)], [(1.5, 0.25), (2.5, 0.5)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="structure"):
        list(tf.data.Dataset.from_generator(short, output_signature=signature))


# ---------------------------------------------------------------- iterator checkpoints
def test_checkpoint_restores_the_iterator_position(tmp_path):
    iterator = iter(tf.data.Dataset.range(20).map(lambda x: x * 10))
    ckpt = tf.train.Checkpoint(step=tf.Variable(0), iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    assert [int(next(iterator)) for _ in range(5)] == [0, 10, 20, 30, 40]
    manager.save()
    assert [int(next(iterator)) for _ in range(5)] == [50, 60, 70, 80, 90]
    ckpt.restore(manager.latest_checkpoint)
    # TF 2.21 prints [50, 60, 70, 80, 90] again after the restore
    assert [int(next(iterator)) for _ in range(5)] == [50, 60, 70, 80, 90]
    # a second save/restore cycle, and a fresh iterator restored from the file
    manager.save()
    fresh = iter(tf.data.Dataset.range(20).map(lambda x: x * 10))
    tf.train.Checkpoint(step=tf.Variable(0), iterator=fresh).restore(
        manager.latest_checkpoint)
    assert int(next(fresh)) == 100 and int(next(iterator)) == 100


# ---------------------------------------------------------------- sparse batches
def test_sparse_batch_and_dense_to_sparse_batch():
    ds = tf.data.Dataset.range(1, 4).map(lambda x: tf.range(x))
    batches = list(ds.sparse_batch(2, [5]))
    assert ds.sparse_batch(2, [5]).element_spec == tf.SparseTensorSpec([None, 5], tf.int64)
    # TF 2.21 values
    assert [tf.sparse.to_dense(b).numpy().tolist() for b in batches] == [
        [[0, 0, 0, 0, 0], [0, 1, 0, 0, 0]], [[0, 1, 2, 0, 0]]]
    same = ds.apply(tf.data.experimental.dense_to_sparse_batch(2, [5]))
    assert [b.dense_shape.numpy().tolist() for b in same] == [[2, 5], [1, 5]]
    widest = next(iter(ds.sparse_batch(3, [-1])))
    assert widest.dense_shape.numpy().tolist() == [3, 3]
    with pytest.raises(tf.errors.DataLossError, match="row shape"):   # as TF 2.21
        list(ds.sparse_batch(3, [2]))
