"""AutoGraph loops over ``tf.data.Dataset.range`` (not ``tf.range``) with ``break``
and ``continue``: the loop pulls the dataset's elements. Figures are TF 2.21's."""

import dlframe as tf


def test_break_in_a_loop_over_dataset_range_sees_elements():
    @tf.function
    def f():
        before, after, odd = (tf.constant(0, tf.int64) for _ in range(3))
        for x in tf.data.Dataset.range(5, 100):
            if x > 7:
                break
            before += x
        for x in tf.data.Dataset.range(100):
            after += x
            if x > 4:
                break
        for x in tf.data.Dataset.range(10):
            if x % 2 == 0:
                continue
            odd += x
        return before, after, odd

    assert [int(v) for v in f()] == [18, 15, 25]   # was: loop counters, not elements


def test_tf_range_loops_with_break_still_count():
    @tf.function
    def f(n):
        s = tf.constant(0)
        for i in tf.range(n):
            if i > 3:
                break
            s += i
        t = 0
        for j in tf.range(5):
            if j > 2:
                break
            t += j
        return s, t

    assert [int(v) for v in f(tf.constant(10))] == [6, 3]


def test_function_accepts_experimental_attributes():
    f = tf.function(lambda x: x + 1, experimental_attributes={"_noinline": True})
    assert int(f(tf.constant(1))) == 2   # TF 2.21 takes the keyword
