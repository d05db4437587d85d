"""Review of round 19 (R5): ``tf.debugging.enable_check_numerics`` checks the
floating outputs TF checks (bfloat16 included, complex not) and names an op run
while a function is traced a graph op."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32", "float64"])
def test_floating_outputs_are_checked_eager_and_in_function(check_numerics_on, dtype):
    x = tf.constant([1.0, 0.0], dtype)
    with pytest.raises(InvalidArgumentError, match="Tensor had (Inf and )?NaN|Inf"):
        x / tf.constant(0.0, dtype)
    with pytest.raises(InvalidArgumentError, match='op "RealDiv"'):
        tf.function(lambda a: a / tf.constant(0.0, dtype))(x)
    finite = tf.function(lambda a: a * 2)(x)   # finite values pass untouched
    np.testing.assert_array_equal(finite.numpy().astype("float32"), [2.0, 0.0])


def test_complex_outputs_are_not_checked(check_numerics_on):
    # TF 2.21 checks floating dtypes only: an Inf in a complex64 output passes
    z = tf.complex(tf.constant([1.0, 0.0]), tf.constant([0.0, 0.0]))
    out = z / tf.complex(0.0, 0.0)
    assert out.dtype == tf.complex64
    assert not np.isfinite(out.numpy()).all()
    out = tf.function(lambda a: a / tf.complex(0.0, 0.0))(z)
    assert not np.isfinite(out.numpy()).all()


def test_error_while_tracing_names_a_graph_op(check_numerics_on):
    with pytest.raises(InvalidArgumentError) as err:
        tf.function(lambda v: tf.math.log(v - 3.0))(tf.constant([1.0, 4.0]))
    assert 'of graph op "Log"' in str(err.value)
    with pytest.raises(InvalidArgumentError) as err:
        tf.math.log(tf.constant([-1.0]))
    assert 'of eagerly-executing op "Log"' in str(err.value)
