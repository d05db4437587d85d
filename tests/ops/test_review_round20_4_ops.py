"""Review round 20 (R4) regressions in ops: ``add_n``'s dtype error is a TypeError
inside a traced function, as TF's graph construction reports it."""

import numpy as np
import pytest

import dlframe as tf


def test_add_n_mixed_dtypes_traced_is_type_error():
    a16 = tf.constant([1.0, 2.0], tf.float16)
    a32 = tf.constant([1.0, 2.0], tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError):   # eager: TF's kernel error
        tf.add_n([a16, a32])

    @tf.function
    def traced(x, y):
        return tf.add_n([x, y])

    with pytest.raises(TypeError):   # TF 2.21: TypeError from graph construction
        traced(a16, a32)
    np.testing.assert_allclose(traced(a32, a32).numpy(), [2.0, 4.0])
