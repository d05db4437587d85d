"""The array assertions of ``tf.test.TestCase`` (``assertAllClose`` and co).

Every assertion takes Tensors, Variables, RaggedTensors, NumPy arrays and Python
values; ``assertAllClose``/``assertAllEqual`` also take nested dicts, lists, tuples
and namedtuples. Failures raise ``AssertionError`` with the path of the differing
leaf (``a[y][1]``), the indices that differ, both values and the tolerance.
"""

from dlframe.backends.base import np  # host comparisons of test values
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.test import values as _values

# TF's tolerances by dtype for assertAllCloseAccordingToType.
_HALF_DTYPES = (np.dtype(np.float16),)
_SINGLE_DTYPES = (np.dtype(np.float32), np.dtype(np.complex64))


def _widened(array):
    """``array`` in float64/complex128 for the tolerance check, or None when it is
    not numeric (strings, objects) or boolean."""
    if array.dtype.kind == "c":
        return array.astype(np.complex128)
    if array.dtype.kind in "iuf":
        return array.astype(np.float64)
    if array.dtype.kind == "V":   # ml_dtypes' bfloat16 and friends
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            return None
    return None


def _is_bfloat16(dtype):
    return _dt.bfloat16 is not None and dtype == _dt.bfloat16.as_numpy_dtype


def _suffix(msg):
    return f" {msg}" if msg else ""


def _where(mask, array):
    return array[mask] if array.ndim else array


class ArrayAssertions:
    """Mixin of the array assertions (combined with ``unittest.TestCase``)."""

    # -- closeness ---------------------------------------------------------------
    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):
        """Asserts two structures of arrays have the same shape and close values.

        Elements match when ``|a - b| <= atol + rtol * |b|`` (NaNs match NaNs).
        Nested dicts must have the same keys; lists and tuples compare equal.

        Args:
          a: the actual value: tensor, array, Python value or nested structure.
          b: the expected value, of the same structure.
          rtol: relative tolerance.
          atol: absolute tolerance.
          msg: optional message added to the failure report.
        """
        _values.compare_structures(
            a, b, lambda x, y, where: self._assert_leaf_close(x, y, rtol, atol, msg,
                                                              where), msg)

    def assertAllCloseAccordingToType(
            self, a, b, rtol=1e-6, atol=1e-6, float_rtol=1e-6, float_atol=1e-6,
            half_rtol=1e-3, half_atol=1e-3, bfloat16_rtol=1e-2, bfloat16_atol=1e-2,
            msg=None):
        """``assertAllClose`` with tolerances widened by the values' dtype: at least
        ``float_*`` for float32/complex64, ``half_*`` for float16 and
        ``bfloat16_*`` for bfloat16 (either side's dtype counts)."""
        def check(x, y, where):
            dtypes = (x.dtype, y.dtype)
            r, t = rtol, atol
            if any(d in _SINGLE_DTYPES for d in dtypes):
                r, t = max(r, float_rtol), max(t, float_atol)
            if any(d in _HALF_DTYPES for d in dtypes):
                r, t = max(r, half_rtol), max(t, half_atol)
            if any(_is_bfloat16(d) for d in dtypes):
                r, t = max(r, bfloat16_rtol), max(t, bfloat16_atol)
            self._assert_leaf_close(x, y, r, t, msg, where)
        _values.compare_structures(a, b, check, msg)

    def assertNotAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):
        """Asserts ``a`` and ``b`` differ (beyond tolerance) somewhere."""
        try:
            self.assertAllClose(a, b, rtol=rtol, atol=atol, msg=msg)
        except AssertionError:
            return
        raise AssertionError(f"The two values are close at all elements.{_suffix(msg)}")

    def _assert_same_shape(self, a, b, msg):
        if a.shape != b.shape:
            raise AssertionError(f"Shape mismatch: expected {a.shape}, got {b.shape} "
                                 f"with contents {b}.{_suffix(msg)}")

    def _assert_leaf_close(self, a, b, rtol, atol, msg, where):
        self._assert_same_shape(a, b, msg)
        wide_a, wide_b = _widened(a), _widened(b)
        if wide_a is None or wide_b is None:   # strings, booleans: exact match
            self._assert_leaf_equal(a, b, msg, where)
            return
        close = np.isclose(wide_a, wide_b, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return
        bad = ~close
        diff = np.abs(wide_a - wide_b)
        tol = atol + rtol * np.abs(wide_b)
        report = (f"Mismatched value: a{where} is different from b{where}."
                  f"{_suffix(msg)}\n")
        if a.ndim:
            report += f"not close where = {np.nonzero(bad)}\n"
        report += (f"not close lhs = {_where(bad, a)}\n"
                   f"not close rhs = {_where(bad, b)}\n"
                   f"not close dif = {_where(bad, diff)}\n"
                   f"not close tol = {_where(bad, tol)}\n"
                   f"dtype = {a.dtype}, shape = {a.shape}")
        # NumPy adds its header and the mismatch summary to the report.
        np.testing.assert_allclose(wide_a, wide_b, rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=report)
        raise AssertionError(f"\nNot equal to tolerance rtol={rtol:g}, atol={atol:g}\n"
                             + report)

    # -- equality ------------------------------------------------------------------
    def assertAllEqual(self, a, b, msg=None):
        """Asserts two structures of arrays have the same shape and equal elements.

        Strings compare by text (``b'a'`` equals ``'a'``); NaNs equal NaNs.

        Args:
          a: the actual value: tensor, array, Python value or nested structure.
          b: the expected value.
          msg: optional message added to the failure report.
        """
        _values.compare_structures(
            a, b, lambda x, y, where: self._assert_leaf_equal(x, y, msg, where), msg)

    def assertNotAllEqual(self, a, b, msg=None):
        """Asserts ``a`` and ``b`` differ somewhere."""
        try:
            self.assertAllEqual(a, b, msg=msg)
        except AssertionError:
            return
        raise AssertionError(f"The two values are equal at all elements.{_suffix(msg)}")

    def _assert_leaf_equal(self, a, b, msg, where):
        if a.shape != b.shape:
            raise AssertionError(f"Shape mismatch: expected {a.shape}, got {b.shape}. "
                                 f"Contents: {b!r}.{_suffix(msg)}")
        a, b = _values.normalize_strings(a), _values.normalize_strings(b)
        if (a.dtype == object) != (b.dtype == object):
            a, b = a.astype(object), b.astype(object)
        same = np.asarray(a == b, dtype=bool)
        if a.dtype.kind in "fc" and b.dtype.kind in "fc":
            same |= np.isnan(a) & np.isnan(b)
        if same.all():
            return
        bad = ~same
        report = f"Mismatched value: a{where} is different from b{where}.{_suffix(msg)}\n"
        if a.ndim:
            report += f"not equal where = {np.nonzero(bad)}\n"
        report += (f"not equal lhs = {_where(bad, a)!r}\n"
                   f"not equal rhs = {_where(bad, b)!r}")
        np.testing.assert_array_equal(a, b, err_msg=report)
        raise AssertionError("\nArrays are not equal\n" + report)

    # -- scalar nearness ---------------------------------------------------------
    def assertNear(self, f1, f2, err, msg=None):
        """Asserts ``|f1 - f2| <= err`` for two floats."""
        if not (f1 == f2 or abs(f1 - f2) <= err):
            raise AssertionError(f"{f1:f} != {f2:f} +/- {err:f} (difference: "
                                 f"{abs(f1 - f2)}){_suffix(msg)}")

    def assertArrayNear(self, farray1, farray2, err, msg=None):
        """Asserts two float sequences have the same length and near elements."""
        self.assertEqual(len(farray1), len(farray2), msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg=msg)

    def assertNDArrayNear(self, ndarray1, ndarray2, err, msg=None):
        """Asserts the Euclidean norm of ``ndarray1 - ndarray2`` is below ``err``."""
        norm = float(np.linalg.norm(_values.as_array(ndarray1)
                                    - _values.as_array(ndarray2)))
        if not norm < err:
            raise AssertionError(f"norm of the difference {norm} is not less than "
                                 f"{err}{_suffix(msg)}")

    # -- order and membership ----------------------------------------------------
    def assertAllGreater(self, a, comparison_target):
        """Asserts every element of ``a`` is greater than ``comparison_target``."""
        self.assertGreater(np.min(_values.as_array(a)), comparison_target)

    def assertAllLess(self, a, comparison_target):
        """Asserts every element of ``a`` is less than ``comparison_target``."""
        self.assertLess(np.max(_values.as_array(a)), comparison_target)

    def assertAllGreaterEqual(self, a, comparison_target):
        """Asserts every element of ``a`` is >= ``comparison_target``."""
        self.assertGreaterEqual(np.min(_values.as_array(a)), comparison_target)

    def assertAllLessEqual(self, a, comparison_target):
        """Asserts every element of ``a`` is <= ``comparison_target``."""
        self.assertLessEqual(np.max(_values.as_array(a)), comparison_target)

    def assertAllInRange(self, target, lower_bound, upper_bound,
                         open_lower_bound=False, open_upper_bound=False):
        """Asserts every element of a real-valued ``target`` lies in a range.

        Args:
          target: tensor or array of integers or floats.
          lower_bound: lower end of the range.
          upper_bound: upper end of the range.
          open_lower_bound: exclude ``lower_bound`` itself.
          open_upper_bound: exclude ``upper_bound`` itself.
        """
        target = _values.as_array(target)
        if target.dtype.kind not in "iuf" and not _is_bfloat16(target.dtype):
            raise AssertionError(f"The value of {target} does not have an ordered "
                                 f"numeric type, instead it has type: {target.dtype}")
        values = target.astype(np.float64) if target.dtype.kind == "V" else target
        nans = np.isnan(values) if values.dtype.kind == "f" else np.zeros(
            values.shape, bool)
        if nans.any():
            raise AssertionError(
                f"{int(nans.sum())} of the {target.size} element(s) are NaN. "
                f"Subscript(s) and value(s) of the NaN element(s):\n"
                + _offenders(nans, target))
        below = values <= lower_bound if open_lower_bound else values < lower_bound
        above = values >= upper_bound if open_upper_bound else values > upper_bound
        outside = below | above
        if outside.any():
            interval = (f"{'(' if open_lower_bound else '['}{lower_bound}, "
                        f"{upper_bound}{')' if open_upper_bound else ']'}")
            raise AssertionError(
                f"{int(outside.sum())} of the {target.size} element(s) are outside "
                f"the range {interval}. Subscript(s) and value(s) of the offending "
                f"elements:\n" + _offenders(outside, target))

    def assertAllInSet(self, target, expected_set):
        """Asserts every element of ``target`` is in ``expected_set``."""
        flat = _values.normalize_strings(_values.as_array(target)).reshape(-1)
        allowed = _values.normalize_strings(np.asarray(list(expected_set)))
        missing = sorted(set(flat.tolist()) - set(allowed.tolist()), key=repr)
        if missing:
            raise AssertionError(f"{len(missing)} unique element(s) are not in the set "
                                 f"{expected_set}: {missing}")

    # -- shapes and dtypes -------------------------------------------------------
    def assertShapeEqual(self, input_a, input_b, msg=None):
        """Asserts a NumPy array (or Tensor) and a Tensor have the same shape.

        Raises:
          TypeError: when an input is neither a NumPy array/scalar nor a Tensor.
        """
        shapes = []
        for name, value in (("input_a", input_a), ("input_b", input_b)):
            if not isinstance(value, (np.ndarray, np.generic, Tensor)):
                raise TypeError(f"{name} must be a Numpy ndarray, Numpy scalar, or a "
                                f"Tensor. Instead received {type(value)}")
            shapes.append(list(np.shape(value) if not isinstance(value, Tensor)
                               else value.shape))
        if shapes[0] != shapes[1]:
            raise AssertionError(f"Shape mismatch: input_a has shape {shapes[0]}, "
                                 f"input_b has shape {shapes[1]}.{_suffix(msg)}")

    def assertDTypeEqual(self, target, expected_dtype):
        """Asserts ``target``'s elements have ``expected_dtype`` (a NumPy dtype, a
        ``tf.DType`` or a dtype name; ``tf.string`` matches str and bytes arrays)."""
        actual = _values.as_array(target).dtype
        if not _same_dtype(actual, expected_dtype):
            raise AssertionError(f"{actual!r} != {expected_dtype!r}")


def _same_dtype(actual, expected):
    try:
        return _dt.as_dtype(actual) == _dt.as_dtype(expected)
    except (TypeError, ValueError):
        try:
            return actual == np.dtype(expected)
        except TypeError:
            return False


def _offenders(mask, target):
    lines = [f"  {index} : {target[tuple(index)]}" for index in np.argwhere(mask)]
    return "\n".join(lines)
