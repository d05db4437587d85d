"""tf.test.TestCase beyond the array assertions: seeding, evaluate, sessions, temp
files, exception helpers, checked threads; run both by pytest (as unittest classes)
and by unittest's own runner to see failures reported."""

import os
import random
import unittest

import numpy as np
import pytest

import dlframe as tf


def _run(case_class):
    """Runs a TestCase class with unittest; returns the TestResult."""
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case_class)
    result = unittest.TestResult()
    suite.run(result)
    return result


def _reference_draws():
    tf.random.set_seed(87654321)
    np.random.seed(87654321)
    random.seed(87654321)
    return tf.random.uniform([3]).numpy(), np.random.rand(), random.random()


def test_set_up_seeds_global_random_state():
    captured = []

    class Draw(tf.test.TestCase):
        def test_a(self):
            captured.append((tf.random.uniform([2]).numpy(), np.random.rand(),
                             random.random()))

        def test_b(self):
            captured.append((tf.random.uniform([2]).numpy(), np.random.rand(),
                             random.random()))

    assert _run(Draw).wasSuccessful()
    expected = _reference_draws()
    for got in captured:
        np.testing.assert_array_equal(got[0], expected[0][:2])
        assert got[1:] == expected[1:]
    # TF 2.21 gives these for tf.random.uniform([2]) after set_seed(87654321)
    np.testing.assert_allclose(captured[0][0], [0.5836375, 0.2972299], rtol=1e-6)


class EvaluateTest(tf.test.TestCase):

    def test_tensors_variables_and_structures(self):
        self.assertIsInstance(self.evaluate(tf.constant(1.5)), np.float32)
        np.testing.assert_array_equal(self.evaluate(tf.constant([1, 2])), [1, 2])
        v = tf.Variable([1.0, 2.0])
        v.assign_add([1.0, 1.0])
        np.testing.assert_array_equal(self.evaluate(v), [2.0, 3.0])
        out = self.evaluate({"a": tf.constant(1), "b": [tf.constant(2.0), None]})
        self.assertEqual(out["a"], 1)
        self.assertIsInstance(out["b"], list)
        self.assertEqual(out["b"][0], 2.0)
        self.assertIsNone(out["b"][1])
        self.assertIsInstance(self.evaluate((tf.constant(1.0),)), tuple)
        self.assertEqual(self.evaluate(tf.constant(["ab"])).tolist(), [b"ab"])

    def test_composite_tensors(self):
        ragged = self.evaluate(tf.ragged.constant([[1], [2, 3]]))
        self.assertEqual(ragged.to_list(), [[1], [2, 3]])
        np.testing.assert_array_equal(ragged.row_splits, [0, 1, 3])
        sparse = self.evaluate(tf.SparseTensor([[0, 1]], [5.0], [2, 2]))
        np.testing.assert_array_equal(sparse.indices, [[0, 1]])
        np.testing.assert_array_equal(sparse.values, [5.0])
        np.testing.assert_array_equal(sparse.dense_shape, [2, 2])

    def test_non_tensors_are_rejected_like_tf(self):
        with self.assertRaisesRegex(ValueError, "Unsupported type 'int'"):
            self.evaluate(5)
        with self.assertRaisesRegex(ValueError, "Unsupported type 'ndarray'"):
            self.evaluate([np.ones(2)])

    def test_sessions_yield_an_eager_runner(self):
        for make in (self.cached_session, self.session, self.test_session):
            with make() as sess:
                self.assertEqual(sess.run(tf.constant(2) * 3), 6)
                self.assertAllEqual(self.evaluate(tf.constant([1])), [1])
                with self.assertRaisesRegex(ValueError, "feed_dict"):
                    sess.run(tf.constant(1), feed_dict={"x": 1})
        with self.cached_session(use_gpu=False):
            self.assertIn("CPU", tf.constant(1.0).device.upper())

    def test_evaluate_if_both_tensors(self):
        a, b = self.evaluate_if_both_tensors(tf.constant(1), tf.constant(2))
        self.assertEqual((a, b), (1, 2))
        self.assertEqual(self.evaluate_if_both_tensors(1, tf.constant(2))[0], 1)


def test_test_session_is_skipped_when_collected_as_a_test():
    class Plain(tf.test.TestCase):
        def test_real(self):
            pass

    result = _run(Plain)
    assert result.testsRun == 2 and result.wasSuccessful()
    assert [t.id().rsplit(".", 1)[-1] for t, _ in result.skipped] == ["test_session"]


def test_temp_dirs_and_files_are_made_and_cleaned_up():
    seen = {}

    class Files(tf.test.TestCase):
        def test_files(self):
            temp = self.get_temp_dir()
            self.assertEqual(temp, self.get_temp_dir())
            self.assertTrue(os.path.isdir(temp))
            folder = self.create_tempdir()
            made = folder.create_file("sub/x.txt", content="hi")
            self.assertEqual(made.read_text(), "hi")
            self.assertTrue(made.full_path.startswith(folder.full_path))
            self.assertEqual(os.fspath(folder), folder.full_path)
            inner = folder.mkdir("inner")
            self.assertTrue(os.path.isdir(inner.full_path))
            data = self.create_tempfile(content=b"\x00\x01", mode="wb")
            self.assertEqual(data.read_bytes(), b"\x00\x01")
            data.write_text("more", mode="a")
            self.assertEqual(data.read_bytes(), b"\x00\x01more")
            kept = self.create_tempfile("kept.txt", content="k",
                                        cleanup="off")
            named = self.create_tempdir("named")
            self.assertTrue(named.full_path.endswith(os.path.join("test_files", "named")))
            seen.update(folder=folder.full_path, data=data.full_path,
                        kept=kept.full_path, temp=temp)

    assert _run(Files).wasSuccessful()
    assert not os.path.exists(seen["folder"])
    assert not os.path.exists(seen["data"])
    assert os.path.exists(seen["kept"])
    assert os.path.isdir(seen["temp"])      # get_temp_dir lives until exit, as TF
    os.remove(seen["kept"])


class ExceptionHelpersTest(tf.test.TestCase):

    def test_raises_op_error(self):
        with self.assertRaisesOpError("Incompatible shapes"):
            tf.constant([1, 2]) + tf.constant([1, 2, 3])
        with self.assertRaisesIncompatibleShapesError():
            tf.constant([1.0, 2.0]) * tf.constant([1.0, 2.0, 3.0])
        with self.assertRaisesIncompatibleShapesError(ValueError):
            tf.constant([1.0, 2.0]) - tf.constant([1.0, 2.0, 3.0])

    def test_failures_are_assertion_errors(self):
        with (self.assertRaisesRegex(AssertionError, "OpError not raised"),
              self.assertRaisesOpError("x")):
            pass
        with (self.assertRaisesRegex(AssertionError, "Exception of type .*ValueError"),
              self.assertRaisesOpError("Incompatible")):
            raise ValueError("Incompatible")
        with (self.assertRaisesRegex(AssertionError, "Exception of type"),
              self.assertRaisesOpError("no such text")):
            tf.constant([1, 2]) + tf.constant([1, 2, 3])

    def test_predicate_match(self):
        with self.assertRaisesWithPredicateMatch(KeyError, lambda e: "k" in str(e)):
            {}["k"]
        with (self.assertRaisesRegex(AssertionError, "Exception of type"),
              self.assertRaisesWithPredicateMatch(KeyError, lambda e: False)):
            {}["k"]


def test_checked_thread_reports_errors_and_unjoined_threads():
    import threading
    release = threading.Event()

    class Threads(tf.test.TestCase):
        def test_ok(self):
            out = []
            thread = self.checkedThread(target=out.append, args=(1,))
            thread.start()
            thread.join()
            self.assertEqual(out, [1])
            self.assertFalse(thread.is_alive())

        def test_error(self):
            thread = self.checkedThread(target=lambda: 1 / 0)
            thread.start()
            thread.join()

        def test_not_joined(self):
            self.checkedThread(target=release.wait).start()

    result = _run(Threads)
    release.set()
    failed = {t.id().rsplit(".", 1)[-1]: text for t, text in result.failures}
    assert set(failed) == {"test_error", "test_not_joined"}
    assert "Error in checkedThread: division by zero" in failed["test_error"]
    assert "checkedThread was not joined" in failed["test_not_joined"]


def test_failed_assertions_are_reported_as_failures_not_errors():
    class Mixed(tf.test.TestCase):
        def test_close(self):
            self.assertAllClose(tf.constant([1.0, 2.0]), [1.0, 3.0])

        def test_equal(self):
            self.assertAllEqual(tf.constant([1, 2]), [1, 2])

    result = _run(Mixed)
    assert [t.id().rsplit(".", 1)[-1] for t, _ in result.failures] == ["test_close"]
    assert not result.errors


def test_enter_context_exits_after_the_test():
    events = []

    class Ctx:
        def __enter__(self):
            events.append("enter")
            return 7

        def __exit__(self, *exc):
            events.append("exit")

    class UsesContext(tf.test.TestCase):
        def test_it(self):
            self.assertEqual(self.enter_context(Ctx()), 7)
            events.append("body")

    assert _run(UsesContext).wasSuccessful()
    assert events == ["enter", "body", "exit"]


def test_module_level_names():
    assert tf.test.mock is unittest.mock
    assert tf.test.Benchmark.is_abstract()
    assert issubclass(tf.test.TestCase, unittest.TestCase)
    assert os.path.isdir(tf.test.get_temp_dir())
    tf.test.experimental.sync_devices()
    assert tf.test.with_eager_op_as_function(EvaluateTest) is EvaluateTest

    class Skips(tf.test.TestCase):
        @tf.test.disable_with_predicate(pred=lambda: True, skip_message="nope")
        def test_skipped(self):
            raise AssertionError("must not run")

    result = _run(Skips)
    assert result.wasSuccessful()
    assert "nope" in [reason for _, reason in result.skipped]


@pytest.mark.parametrize("method", ["cached_session", "session"])
def test_sessions_reject_graphs(method):
    with pytest.raises(ValueError, match="graph must be None"):
        getattr(tf.test.TestCase(), method)(graph=object())
