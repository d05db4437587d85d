"""``tf.math.sobol_sample``: points of the Sobol low-discrepancy sequence.

The direction numbers are Joe and Kuo's (2008) ``new-joe-kuo-6.21201`` table, the
one TensorFlow uses; SciPy (a dlframe dependency) ships that table with
``scipy.stats.qmc.Sobol``, whose unscrambled sequence walks the same Gray-code
order. TF leaves out the all-zero first point, so result ``i`` is sequence point
``skip + 1 + i``.
"""

from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError

MAX_DIM = 21200  # TF's limit (the table has 21201 rows; TF keeps one in reserve)


@primitive("SobolSample")
def _sobol_p(d, *, dim, num_results, skip, dtype):
    from scipy.stats import qmc

    engine = qmc.Sobol(dim, scramble=False, bits=30)
    engine.fast_forward(skip + 1)
    return d.asarray(engine.random(num_results).astype(dtype))


def _count(value, name, minimum):
    if hasattr(value, "numpy"):
        value = value.numpy()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TypeError(f"sobol_sample: `{name}` must be an integer. Received: "
                        f"{name}={value!r}") from None
    if number != value:
        raise TypeError(f"sobol_sample: `{name}` must be an integer. Received: "
                        f"{name}={value!r}")
    if number < minimum:
        what = "non-negative" if minimum == 0 else "at least one"
        raise InvalidArgumentError(f"sobol_sample: `{name}` must be {what}. Received: "
                         f"{name}={value!r}")
    return number


def sobol_sample(dim, num_results, skip=0, dtype=dtypes.float32, name=None):
    """Points of the (unscrambled) Sobol sequence in the unit cube ``[0, 1)^dim``.

    Args:
      dim: the dimension of each point, 1 to 21200.
      num_results: how many points to return (at least one).
      skip: how many initial points of the sequence to skip (the all-zero point is
        always left out, as in TF).
      dtype: float32 (default) or float64.
      name: unused.

    Returns:
      A ``[num_results, dim]`` tensor.

    Raises:
      InvalidArgumentError: ``dim`` outside [1, 21200], ``num_results < 1``,
        ``skip < 0`` or a ``dtype`` other than float32/float64.
      TypeError: non-integer counts.
    """
    dim = _count(dim, "dim", 1)
    if dim > MAX_DIM:
        raise InvalidArgumentError(f"sobol_sample: `dim` must be at most {MAX_DIM}. Received: "
                         f"dim={dim}")
    num_results = _count(num_results, "num_results", 1)
    skip = _count(skip, "skip", 0)
    dtype = dtypes.as_dtype(dtype)
    if dtype not in (dtypes.float32, dtypes.float64):
        raise InvalidArgumentError(   # TF: no SobolSample kernel for other dtypes
            f"sobol_sample: `dtype` must be float32 or float64. Received: "
            f"dtype={dtype.name} [Op:SobolSample]")
    return call(_sobol_p, (), {"dim": dim, "num_results": num_results, "skip": skip,
                               "dtype": dtype.name})


MATH_NAMES = ["sobol_sample"]
