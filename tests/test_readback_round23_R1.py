"""Read-back review of session 23's core/ops/data changes: behaviours checked
against TF 2.21 (eager, CPU) that the landed tests did not cover."""

import os

import numpy as np
import pytest

import dlframe as tf

D = tf.data.Dataset


# --- Dataset.cache(filename): a dropped iterator is no concurrent writer -------

def test_cache_after_next_of_a_dropped_iterator_writes_the_cache(tmp_path):
    # TF 2.21: the first iterator is destroyed, its lockfile removed; the second
    # pass writes the whole cache: [0, 1, 2, 3, 4], files .data + .index only
    ds = D.range(5).cache(str(tmp_path / "c"))
    assert int(next(iter(ds))) == 0
    # TF: the dropped iterator is destroyed at once (no lockfile, no partial file)
    assert os.listdir(tmp_path) == []
    for _ in ds:
        break
    assert list(ds.as_numpy_iterator()) == [0, 1, 2, 3, 4]
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]
    assert list(ds.as_numpy_iterator()) == [0, 1, 2, 3, 4]   # read back


def test_cache_under_prefetch_after_break(tmp_path):
    ds = D.range(5).cache(str(tmp_path / "c")).prefetch(2)
    for _ in ds:
        break
    assert list(ds.as_numpy_iterator()) == [0, 1, 2, 3, 4]
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]


def test_cache_refuses_a_live_second_writer_and_cleans_up(tmp_path, monkeypatch):
    from dlframe.data import cache
    monkeypatch.setattr(cache, "OWN_LOCK_WAIT_S", 0.2)   # the live writer never ends
    ds = D.range(5).cache(str(tmp_path / "c"))

    def two_live_iterators():
        first = iter(ds)
        next(first)
        with pytest.raises(tf.errors.AlreadyExistsError, match="c_0.lockfile"):
            next(iter(ds))

    two_live_iterators()
    # TF 2.21: nothing of the unfinished writer is left once it is gone
    assert os.listdir(tmp_path) == []


# --- SqlDataset: an iterator may go on (or be dropped) on another thread --------

def test_sql_dataset_iterator_continues_on_another_thread(tmp_path):
    import gc
    import sqlite3
    import threading
    path = str(tmp_path / "db.sqlite")
    con = sqlite3.connect(path)
    con.execute("create table t (a integer, b text)")
    con.executemany("insert into t values (?, ?)", [(i, str(i)) for i in range(4)])
    con.commit()
    con.close()
    ds = tf.data.experimental.SqlDataset("sqlite", path, "select a, b from t",
                                         (tf.int64, tf.string))
    it = iter(ds)
    assert int(next(it)[0]) == 0
    got = []
    worker = threading.Thread(target=lambda: got.append(next(it)))
    worker.start()
    worker.join()
    # TF 2.21: (1, b"1") from the second thread
    assert len(got) == 1 and int(got[0][0]) == 1 and got[0][1].numpy() == b"1"
    del it
    gc.collect()
    # TF: a prefetched pipeline left early, then read whole
    for _ in ds.prefetch(2):
        break
    rows = list(ds.map(lambda a, b: a, num_parallel_calls=2).as_numpy_iterator())
    assert rows == [0, 1, 2, 3]


# --- bfloat16 reductions past the float32 range: inf, quietly (as TF) -----------

def test_bfloat16_sum_and_mean_overflow_to_inf_without_warnings():
    import warnings
    b = tf.constant([[3e38, 3e38], [1.0, 2.0]], tf.bfloat16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean_rows = tf.cast(tf.reduce_mean(b, axis=1), tf.float32).numpy()
        sum_rows = tf.cast(tf.reduce_sum(b, axis=1), tf.float32).numpy()
        mean_all = tf.cast(tf.reduce_mean(b), tf.float32).numpy()
    # TF 2.21: [inf 1.5] [inf 3.] inf
    np.testing.assert_array_equal(mean_rows, [np.inf, 1.5])
    np.testing.assert_array_equal(sum_rows, [np.inf, 3.0])
    assert mean_all == np.inf
