"""tf.test.compute_gradient against hand-derived Jacobians (TF's layout), and
tf.test.Benchmark / tf.test.main, including the TF2-style example test program."""

import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dlframe as tf

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "unit_test_style.py"


def test_elementwise_square_jacobian_is_diagonal():
    x = np.array([1.0, 2.0, 3.0])
    theoretical, numerical = tf.test.compute_gradient(lambda v: v * v, [x])
    assert isinstance(theoretical, tuple) and len(theoretical) == 1
    np.testing.assert_allclose(theoretical[0], np.diag(2 * x))
    np.testing.assert_allclose(numerical[0], np.diag(2 * x), atol=1e-9)
    assert theoretical[0].dtype == numerical[0].dtype == np.float64


def test_matmul_jacobians_have_shape_y_size_by_x_size():
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(3.0).reshape(3, 1) + 1.0
    theoretical, numerical = tf.test.compute_gradient(tf.matmul, [a, b])
    # y[i, 0] = sum_k a[i, k] b[k, 0]: row i of d y / d a holds b in block i
    expect_a = np.zeros((2, 6))
    expect_a[0, 0:3] = b[:, 0]
    expect_a[1, 3:6] = b[:, 0]
    expect_b = a.copy()      # d y[i] / d b[k] = a[i, k]
    for got in (theoretical, numerical):
        assert [j.shape for j in got] == [(2, 6), (2, 3)]
        np.testing.assert_allclose(got[0], expect_a, atol=1e-9)
        np.testing.assert_allclose(got[1], expect_b, atol=1e-9)


def test_compiled_function_gives_the_eager_jacobians():
    a = np.arange(6.0).reshape(2, 3)
    b = np.linspace(-1.0, 1.0, 3).reshape(3, 1)
    eager = tf.test.compute_gradient(lambda x, y: tf.tanh(tf.matmul(x, y)), [a, b])
    compiled = tf.test.compute_gradient(
        tf.function(lambda x, y: tf.tanh(tf.matmul(x, y))), [a, b])
    for got, want in zip(compiled[0] + compiled[1], eager[0] + eager[1]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(eager[0][0], eager[1][0], atol=1e-6)


def test_reduction_and_unconnected_inputs():
    theoretical, numerical = tf.test.compute_gradient(
        lambda x, y: tf.reduce_sum(x * x), [np.array([[1.0, 2.0]]), np.array([5.0])])
    np.testing.assert_allclose(theoretical[0], [[2.0, 4.0]])
    np.testing.assert_allclose(numerical[0], [[2.0, 4.0]], atol=1e-9)
    np.testing.assert_array_equal(theoretical[1], [[0.0]])   # y is unused
    np.testing.assert_array_equal(numerical[1], [[0.0]])


def test_default_delta_is_one_over_1024():
    # central difference of x**3 at 1 is 3 + delta**2
    _, numerical = tf.test.compute_gradient(lambda x: x ** 3, [np.array([1.0])])
    np.testing.assert_allclose(numerical[0], [[3.0 + 1024.0 ** -2]], rtol=1e-12)
    _, numerical = tf.test.compute_gradient(lambda x: x ** 3, [np.array([1.0])],
                                            delta=0.1)
    np.testing.assert_allclose(numerical[0], [[3.01]], rtol=1e-12)


def test_dtypes_follow_the_argument():
    theoretical, numerical = tf.test.compute_gradient(lambda x: x * x, [3.0])
    assert theoretical[0].dtype == np.float32 and theoretical[0].shape == (1, 1)
    np.testing.assert_allclose(numerical[0], [[6.0]], rtol=1e-3)
    theoretical, _ = tf.test.compute_gradient(
        lambda x: tf.cast(x, tf.float64) * 2.0, [np.float32([1.0, 2.0])])
    assert theoretical[0].dtype == np.float32
    theoretical, numerical = tf.test.compute_gradient(
        tf.sin, [np.array([1.0, 2.0], np.float16)])
    assert theoretical[0].dtype == np.float16
    np.testing.assert_allclose(theoretical[0].astype(np.float64),
                               np.diag(np.cos([1.0, 2.0])), atol=2e-3)


def test_complex_arguments_count_real_and_imaginary_parts():
    # y = x**2 at x = a + ib: d(re y) = (2a, -2b), d(im y) = (2b, 2a); TF's layout
    x = np.array([1.0 + 1.0j, 2.0 + 0.0j])
    theoretical, numerical = tf.test.compute_gradient(lambda v: v * v, [x])
    expect = np.array([[2.0, -2.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0],
                       [0.0, 0.0, 4.0, 0.0], [0.0, 0.0, 0.0, 4.0]])
    np.testing.assert_allclose(theoretical[0], expect)
    np.testing.assert_allclose(numerical[0], expect, atol=1e-9)
    assert theoretical[0].dtype == np.float64


def test_variables_and_empty_arguments():
    theoretical, _ = tf.test.compute_gradient(lambda v: 2.0 * v,
                                              [tf.Variable([1.0, 2.0])])
    np.testing.assert_allclose(theoretical[0], 2.0 * np.eye(2))
    theoretical, numerical = tf.test.compute_gradient(lambda v: v * 2.0,
                                                      [np.zeros([0])])
    assert theoretical[0].shape == numerical[0].shape == (0, 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="must be a list or tuple"):
        tf.test.compute_gradient(lambda v: v, np.array([1.0]))
    with pytest.raises(AssertionError, match="unsupported type int32 of argument 0"):
        tf.test.compute_gradient(lambda v: v, [[1, 2]])
    with pytest.raises(TypeError, match="single Tensor"):
        tf.test.compute_gradient(lambda v: (v, v), [np.array([1.0])])


class SquareBenchmark(tf.test.Benchmark):
    def benchmark_square(self):
        return self.run_op_benchmark(None, lambda: tf.square(tf.ones([4])),
                                     burn_iters=1, min_iters=3, mbs=1)

    def benchmark_report(self):
        self.report_benchmark(iters=3, wall_time=0.5, extras={"a": 1, "b": "x"},
                              metrics=[{"name": "acc", "value": 0.9}])


def test_benchmark_reports_in_tf_text_format(capsys):
    SquareBenchmark().benchmark_report()
    text = capsys.readouterr().out
    assert 'name: "SquareBenchmark.benchmark_report"' in text
    assert "iters: 3" in text and "wall_time: 0.5" in text
    assert 'key: "a"' in text and "double_value: 1" in text
    assert 'string_value: "x"' in text
    assert 'metrics {\n    name: "acc"\n    value: 0.9' in text
    with pytest.raises(ValueError, match="metric"):
        SquareBenchmark().report_benchmark(metrics=[{"value": 1.0}])


def test_run_op_benchmark_times_a_callable(capsys):
    result = SquareBenchmark().benchmark_square()
    assert result["iters"] == 3 and result["name"] == "benchmark_square"
    assert result["wall_time"] > 0
    assert result["throughput"] == pytest.approx(1.0 / result["wall_time"])
    assert {"wall_time_mean", "wall_time_stdev"} <= set(result["extras"])
    assert "SquareBenchmark.benchmark_square" in capsys.readouterr().out
    fetched = SquareBenchmark().run_op_benchmark(None, tf.constant([1.0]), min_iters=2,
                                                 name="fetch")
    assert fetched["name"] == "fetch"
    with pytest.raises(ValueError, match="feed_dict"):
        SquareBenchmark().run_op_benchmark(None, tf.constant(1.0), feed_dict={1: 2})


def test_benchmark_report_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_REPORT_FILE_PREFIX", str(tmp_path / "bench_"))
    SquareBenchmark().benchmark_report()
    written = (tmp_path / "bench_SquareBenchmark.benchmark_report").read_text()
    assert written.startswith("entry {")


def _run_script(path, *args):
    root = str(EXAMPLE.parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, str(path), *args], capture_output=True,
                          text=True, timeout=300, cwd=root, env=env, check=False)


def test_example_test_program_passes_under_tf_test_main():
    out = _run_script(EXAMPLE)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK" in out.stderr and "Ran 13 tests" in out.stderr


def test_tf_test_main_exit_status_and_benchmarks_flag(tmp_path):
    script = tmp_path / "failing_test.py"
    script.write_text(textwrap.dedent("""
        import dlframe as tf

        class T(tf.test.TestCase):
            def test_pass(self):
                self.assertAllClose([1.0], [1.0])

            def test_fail(self):
                self.assertAllEqual([1, 2], [1, 3])

        class B(tf.test.Benchmark):
            def benchmark_one(self):
                self.report_benchmark(iters=1, wall_time=0.25)

        if __name__ == "__main__":
            tf.test.main()
    """))
    out = _run_script(script)
    assert out.returncode == 1
    assert "FAILED (failures=1" in out.stderr
    assert "Arrays are not equal" in out.stderr
    out = _run_script(script, "T.test_pass")
    assert out.returncode == 0, out.stderr
    out = _run_script(script, "--benchmarks=.")
    assert out.returncode == 0, out.stderr
    assert 'name: "B.benchmark_one"' in out.stdout and "Ran" not in out.stderr
