"""tf.test.TestCase's array assertions: each passes on equal inputs and raises
AssertionError on unequal ones, with TF's defaults, tolerances and messages."""

import collections

import numpy as np
import pytest

import dlframe as tf

Point = collections.namedtuple("Point", "x y")


@pytest.fixture
def case():
    return tf.test.TestCase()


# (method, arguments that pass, arguments that fail)
CASES = [
    ("assertAllClose", ([1.0, 2.0], [1.0, 2.0000019]), ([1.0, 2.0], [1.0, 2.0000031])),
    ("assertAllEqual", ([[1, 2], [3, 4]], [[1, 2], [3, 4]]), ([[1, 2], [3, 4]],
                                                              [[1, 2], [3, 5]])),
    ("assertNotAllClose", ([1.0], [1.1]), ([1.0], [1.0])),
    ("assertNotAllEqual", ([1, 2], [1, 3]), ([1, 2], [1, 2])),
    ("assertAllCloseAccordingToType", (np.float16([1.0]), np.float16([1.0005])),
     (np.float32([1.0]), np.float32([1.0005]))),
    ("assertArrayNear", ([1.0, 2.0], [1.0, 2.05], 0.1), ([1.0, 2.0], [1.0, 2.5], 0.1)),
    ("assertNear", (1.0, 1.05, 0.1), (1.0, 1.2, 0.1)),
    ("assertNDArrayNear", (np.ones((2, 2)), np.ones((2, 2)) + 0.04, 0.1),
     (np.ones((2, 2)), np.ones((2, 2)) + 0.06, 0.1)),
    ("assertAllLess", ([1, 2], 3), ([1, 3], 3)),
    ("assertAllGreater", ([2, 3], 1), ([1, 3], 1)),
    ("assertAllLessEqual", ([1, 3], 3), ([1, 4], 3)),
    ("assertAllGreaterEqual", ([1, 3], 1), ([0, 3], 1)),
    ("assertAllInRange", ([1, 2], 1, 2), ([1, 3], 1, 2)),
    ("assertAllInSet", ([1, 2, 2], {1, 2}), ([1, 4], {1, 2})),
    ("assertShapeEqual", (np.zeros((2, 3)), tf.zeros((2, 3))),
     (np.zeros((2, 3)), tf.zeros((3, 2)))),
    ("assertDTypeEqual", (np.zeros(2, np.float32), tf.float32),
     (np.zeros(2), np.float32)),
    ("assertStartsWith", ("abc", "ab"), ("abc", "b")),
    ("assertNotStartsWith", ("abc", "b"), ("abc", "ab")),
    ("assertEndsWith", ("abc", "bc"), ("abc", "b")),
    ("assertNotEndsWith", ("abc", "b"), ("abc", "bc")),
    ("assertItemsEqual", ([1, 2, 2], [2, 1, 2]), ([1, 2], [2, 2])),
    ("assertCountEqual", ([1, 2], [2, 1]), ([1, 2], [1, 1])),
    ("assertLen", ([1, 2], 2), ([1, 2], 3)),
    ("assertEmpty", ([],), ([1],)),
    ("assertNotEmpty", ([1],), ([],)),
    ("assertBetween", (2, 1, 3), (4, 1, 3)),
    ("assertContainsSubset", ({1}, {1, 2}), ({3}, {1, 2})),
    ("assertNoCommonElements", ([1], [2]), ([1, 2], [2])),
]


@pytest.mark.parametrize("method,good,bad", CASES, ids=[c[0] for c in CASES])
def test_every_assertion_passes_on_equal_and_fails_on_unequal(case, method, good,
                                                              bad):
    getattr(case, method)(*good)
    with pytest.raises(AssertionError):
        getattr(case, method)(*bad)


def test_all_close_defaults_and_rule_match_tf(case):
    # |a - b| <= atol + rtol * |b| with rtol = atol = 1e-6 (b is the expected value)
    case.assertAllClose([1.0], [1.0000019])
    with pytest.raises(AssertionError):
        case.assertAllClose([1.0], [1.0000021])
    case.assertAllClose([100.0], [100.0001], rtol=1e-6, atol=0)  # tol 1.000001e-4
    with pytest.raises(AssertionError):
        case.assertAllClose([100.0], [100.00011], rtol=1e-6, atol=0)
    case.assertAllClose([1.0, 2.0], [1.5, 2.5], atol=0.5)
    case.assertAllClose([1.0, np.nan, np.inf], [1.0, np.nan, np.inf])
    case.assertAllClose([1, 2], [1.0, 2.0000001])   # ints against floats
    case.assertAllClose(1 + 1j, 1 + 1j)
    with pytest.raises(AssertionError):
        case.assertAllClose(1 + 1j, 1 + 2j)


def test_all_close_takes_tensors_variables_and_nested_structures(case):
    case.assertAllClose(tf.constant([1.0, 2.0]), np.array([1.0, 2.0]))
    case.assertAllClose(tf.Variable([[1.0]]), [[1.0]])
    case.assertAllClose({"a": tf.constant(1.0), "b": [tf.constant(2.0), 3.0]},
                        {"a": 1.0, "b": (2.0, 3.0)})
    case.assertAllClose(Point(1.0, [2.0, 3.0]), Point(1.0, [2.0, 3.0]))
    case.assertAllClose([[1.0], [2.0, 3.0]], [[1.0], [2.0, 3.0]])  # ragged lists
    case.assertAllClose(tf.ragged.constant([[1.0], [2.0, 3.0]]), [[1.0], [2.0, 3.0]])
    with pytest.raises(AssertionError, match=r"a\[y\] is different from b\[y\]"):
        case.assertAllClose(Point(1.0, [2.0, 3.0]), Point(1.0, [2.0, 4.0]))
    with pytest.raises(AssertionError, match="mismatched keys"):
        case.assertAllClose({"a": 1.0}, {"b": 1.0})
    with pytest.raises(ValueError, match="Can't compare dict to non-dict"):
        case.assertAllClose({"a": 1.0}, [1.0])
    with pytest.raises(AssertionError, match=r"Length of a \(2\) != length of b \(3\)"):
        case.assertAllClose([[1.0], [2.0, 3.0]], [[1.0], [2.0, 3.0], [4.0]])
    with pytest.raises(AssertionError, match=r"Shape mismatch.*\[2. 3. 4.\]"):
        case.assertAllClose([[1.0], [2.0, 3.0]], [[1.0], [2.0, 3.0, 4.0]])


def test_all_close_failure_shows_differing_indices_and_values(case):
    with pytest.raises(AssertionError) as info:
        case.assertAllClose([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]],
                            msg="extra")
    text = str(info.value)
    assert "Not equal to tolerance rtol=1e-06, atol=1e-06" in text
    assert "not close where = (array([1]), array([1]))" in text
    assert "not close lhs = [4.]" in text and "not close rhs = [5.]" in text
    assert "dtype = float64, shape = (2, 2)" in text
    assert "extra" in text


def test_shapes_must_match_exactly(case):
    with pytest.raises(AssertionError, match=r"Shape mismatch: expected \(2,\), got"):
        case.assertAllClose([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match="Shape mismatch"):
        case.assertAllClose([1.0, 1.0], 1.0)      # no broadcasting, as TF
    with pytest.raises(AssertionError, match="Shape mismatch"):
        case.assertAllEqual([[1]], [1])


def test_all_equal_on_strings_bytes_nan_and_tensors(case):
    case.assertAllEqual([b"a", b"b"], ["a", "b"])
    case.assertAllEqual(tf.constant(["ab", "c"]), ["ab", "c"])
    case.assertAllEqual("abc", b"abc")
    case.assertAllEqual([np.nan, 1.0], [np.nan, 1.0])
    case.assertAllEqual(tf.constant([1, 2]), tf.Variable([1, 2]))
    case.assertAllEqual([1, 2], [1.0, 2.0])
    with pytest.raises(AssertionError, match="not equal where"):
        case.assertAllEqual(tf.constant(["ab"]), ["ac"])
    with pytest.raises(AssertionError):
        case.assertAllEqual([True, False], [True, True])
    with pytest.raises(AssertionError, match="hello"):
        case.assertAllEqual([1, 2], [1, 3], msg="hello")


def test_all_close_according_to_type_widens_tolerance_by_dtype(case):
    # float16: at least 1e-3, bfloat16: 1e-2, float32: float_rtol/atol (1e-6)
    case.assertAllCloseAccordingToType(np.float16([1.0]), np.float16([1.0009]))
    with pytest.raises(AssertionError):
        case.assertAllCloseAccordingToType(np.float16([1.0]), np.float16([1.01]))
    if tf.bfloat16 is not None:
        case.assertAllCloseAccordingToType(tf.constant([1.0], tf.bfloat16),
                                           tf.constant([1.0078125], tf.bfloat16))
        with pytest.raises(AssertionError):
            case.assertAllCloseAccordingToType(tf.constant([1.0], tf.bfloat16),
                                               tf.constant([1.03125], tf.bfloat16))
    case.assertAllCloseAccordingToType(np.float32([1.0]), np.float32([1.0001]),
                                       float_rtol=1e-3)
    with pytest.raises(AssertionError):   # float64 ignores float_rtol
        case.assertAllCloseAccordingToType([1.0], [1.0001], float_rtol=1e-3)
    # plain assertAllClose does not widen for float16 (TF 2.21 neither)
    with pytest.raises(AssertionError):
        case.assertAllClose(np.float16([1.0]), np.float16([1.0009]))


def test_range_and_set_messages(case):
    case.assertAllInRange(tf.constant([1.0, 2.0]), 1.0, 2.0)
    with pytest.raises(AssertionError, match=r"outside the range \(1, 2\]"):
        case.assertAllInRange([1, 2], 1, 2, open_lower_bound=True)
    with pytest.raises(AssertionError, match=r"outside the range \[1, 2\)"):
        case.assertAllInRange([1, 2], 1, 2, open_upper_bound=True)
    with pytest.raises(AssertionError, match=r"\[0 1\] : 5"):
        case.assertAllInRange([[1, 5], [2, 3]], 1, 3)
    with pytest.raises(AssertionError, match="are NaN"):
        case.assertAllInRange([1.0, np.nan], 0.0, 2.0)
    with pytest.raises(AssertionError, match="ordered numeric type"):
        case.assertAllInRange(["a"], 0, 1)
    case.assertAllInSet(tf.constant([b"x", b"y"]), ["x", "y"])
    with pytest.raises(AssertionError, match=r"1 unique element\(s\) are not in the set"):
        case.assertAllInSet([1, 4, 4], [1, 2, 3])


def test_shape_and_dtype_assertions(case):
    case.assertShapeEqual(np.float32(1.0), tf.constant(2.0))
    with pytest.raises(TypeError, match="input_a must be a Numpy ndarray"):
        case.assertShapeEqual([1.0], tf.constant([1.0]))
    with pytest.raises(TypeError, match="input_b must be"):
        case.assertShapeEqual(np.zeros(1), [1.0])
    case.assertDTypeEqual(tf.zeros(2), tf.float32)
    case.assertDTypeEqual(tf.constant([1, 2], tf.int64), np.int64)
    case.assertDTypeEqual(tf.constant(["a"]), tf.string)
    case.assertDTypeEqual([1.0], "float64")
    with pytest.raises(AssertionError, match="float64"):
        case.assertDTypeEqual(np.zeros(2), np.float32)


def test_near_messages(case):
    with pytest.raises(AssertionError, match=r"1.000000 != 1.200000 \+/- 0.100000"):
        case.assertNear(1.0, 1.2, 0.1)
    with pytest.raises(AssertionError):
        case.assertArrayNear([1.0, 2.0], [1.0], 0.1)     # lengths differ
    with pytest.raises(AssertionError, match="not less than 0.1"):
        case.assertNDArrayNear(np.zeros(1), np.full(1, 0.1), 0.1)   # strict, as TF
