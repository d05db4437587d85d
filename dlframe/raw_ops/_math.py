"""``tf.raw_ops`` math: elementwise, comparisons, reductions, scans, linear algebra."""

import dlframe as tf
from dlframe.raw_ops._builder import Table, outputs

OPS = Table()
m, la = tf.math, tf.linalg

OPS.unary(
    "x", Abs=m.abs, Acos=m.acos, Acosh=m.acosh, Asin=m.asin, Asinh=m.asinh,
    Atan=m.atan, Atanh=m.atanh, Ceil=m.ceil, Cos=m.cos, Cosh=m.cosh,
    Digamma=m.digamma, Erf=m.erf, Erfc=m.erfc, Erfinv=m.erfinv, Exp=m.exp,
    Expm1=m.expm1, Floor=m.floor, Inv=m.reciprocal, Reciprocal=m.reciprocal,
    IsFinite=m.is_finite, IsInf=m.is_inf, IsNan=m.is_nan, Lgamma=m.lgamma, Log=m.log,
    Log1p=m.log1p, LogicalNot=m.logical_not, Neg=m.negative, Rint=m.rint,
    Round=m.round, Rsqrt=m.rsqrt, Sigmoid=m.sigmoid, Sign=m.sign, Sin=m.sin,
    Sinh=m.sinh, Sqrt=m.sqrt, Square=m.square, Tan=m.tan, Tanh=m.tanh, Ndtri=m.ndtri,
    Invert=tf.bitwise.invert, OnesLike=tf.ones_like, ZerosLike=tf.zeros_like,
    BesselI0=m.bessel_i0, BesselI1=m.bessel_i1, BesselI0e=m.bessel_i0e,
    BesselI1e=m.bessel_i1e)
OPS.unary("input", Conj=m.conj)
for _name, _fn in (("Real", m.real), ("Imag", m.imag), ("Angle", m.angle)):
    OPS.op(_name, "input", lambda input, Tout, _fn=_fn: _fn(input), Tout=tf.float32)
OPS.op("ComplexAbs", "x", lambda x, Tout: m.abs(x), Tout=tf.float32)
OPS.op("Complex", "real imag", lambda real, imag, Tout: tf.complex(real, imag),
       Tout=tf.complex64)


def _div(x, y):
    """TF's legacy Div: true division of floats, truncating division of integers."""
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    if x.dtype.is_integer:
        return tf.truncatediv(x, y)
    return m.divide(x, y)


OPS.binary(
    "x y", Add=m.add, AddV2=m.add, Sub=m.subtract, Mul=m.multiply, Div=_div,
    RealDiv=m.divide, DivNoNan=m.divide_no_nan, FloorDiv=m.floordiv,
    FloorMod=m.floormod, TruncateDiv=tf.truncatediv, TruncateMod=tf.truncatemod,
    Mod=tf.truncatemod, Maximum=m.maximum, Minimum=m.minimum, Pow=m.pow,
    SquaredDifference=m.squared_difference, Less=m.less, LessEqual=m.less_equal,
    Greater=m.greater, GreaterEqual=m.greater_equal, LogicalAnd=m.logical_and,
    LogicalOr=m.logical_or, Xdivy=m.xdivy, Xlogy=m.xlogy, Xlog1py=m.xlog1py,
    MulNoNan=m.multiply_no_nan, BitwiseAnd=tf.bitwise.bitwise_and,
    BitwiseOr=tf.bitwise.bitwise_or, BitwiseXor=tf.bitwise.bitwise_xor,
    LeftShift=tf.bitwise.left_shift, RightShift=tf.bitwise.right_shift)
OPS.binary("y x", Atan2=m.atan2)
OPS.binary("a x", Igamma=m.igamma, Igammac=m.igammac, Polygamma=m.polygamma)
OPS.binary("x q", Zeta=m.zeta)
OPS.binary("a b", Cross=la.cross)
for _name, _fn in (("Equal", m.equal), ("NotEqual", m.not_equal)):
    OPS.op(_name, "x y", lambda x, y, incompatible_shape_error, _fn=_fn: _fn(x, y),
           incompatible_shape_error=True)
OPS.op("ApproximateEqual", "x y",
       lambda x, y, tolerance: m.less(m.abs(m.subtract(x, y)), tolerance),
       tolerance=1e-05)
OPS.op("AddN", "inputs", lambda inputs: m.add_n(inputs))

# reductions: (input, axis, keep_dims=False)
for _name, _fn in (("Sum", m.reduce_sum), ("Prod", m.reduce_prod),
                   ("Mean", m.reduce_mean), ("Max", m.reduce_max),
                   ("Min", m.reduce_min), ("All", m.reduce_all), ("Any", m.reduce_any),
                   ("EuclideanNorm", m.reduce_euclidean_norm)):
    OPS.op(_name, "input axis",
           lambda input, axis, keep_dims, _fn=_fn: _fn(input, axis=axis,
                                                       keepdims=keep_dims),
           keep_dims=False)
for _name, _fn in (("ArgMax", m.argmax), ("ArgMin", m.argmin)):
    OPS.op(_name, "input dimension",
           lambda input, dimension, output_type, _fn=_fn: _fn(
               input, axis=dimension, output_type=output_type),
           output_type=tf.int64)
for _name, _fn in (("Cumsum", m.cumsum), ("Cumprod", m.cumprod),
                   ("CumulativeLogsumexp", m.cumulative_logsumexp)):
    OPS.op(_name, "x axis",
           lambda x, axis, exclusive, reverse, _fn=_fn: _fn(
               x, axis=axis, exclusive=exclusive, reverse=reverse),
           exclusive=False, reverse=False)

# linear algebra
OPS.op("MatMul", "a b",
       lambda a, b, transpose_a, transpose_b, grad_a, grad_b: tf.matmul(
           a, b, transpose_a=transpose_a, transpose_b=transpose_b),
       transpose_a=False, transpose_b=False, grad_a=False, grad_b=False)


def _batch_matmul(x, y, adj_x, adj_y, grad_x, grad_y, Tout=None):
    out = tf.matmul(x, y, adjoint_a=adj_x, adjoint_b=adj_y)
    return out if Tout is None else tf.cast(out, Tout)


for _name in ("BatchMatMul", "BatchMatMulV2"):
    OPS.op(_name, "x y", _batch_matmul, adj_x=False, adj_y=False, grad_x=False,
           grad_y=False)
OPS.op("BatchMatMulV3", "x y Tout", _batch_matmul, adj_x=False, adj_y=False,
       grad_x=False, grad_y=False)
OPS.op("Einsum", "inputs equation",
       lambda inputs, equation: tf.einsum(equation, *inputs))
OPS.op("MatrixBandPart", "input num_lower num_upper",
       lambda input, num_lower, num_upper: la.band_part(input, num_lower, num_upper))
OPS.op("MatrixDiag", "diagonal", lambda diagonal: la.diag(diagonal))
OPS.op("MatrixDiagV3", "diagonal k num_rows num_cols padding_value",
       lambda diagonal, k, num_rows, num_cols, padding_value, align: la.diag(
           diagonal, k=k, num_rows=num_rows, num_cols=num_cols,
           padding_value=padding_value, align=align), align="RIGHT_LEFT")
OPS.op("MatrixDiagPart", "input", lambda input: la.diag_part(input))
OPS.op("MatrixDiagPartV3", "input k padding_value",
       lambda input, k, padding_value, align: la.diag_part(
           input, k=k, padding_value=padding_value, align=align), align="RIGHT_LEFT")
OPS.op("MatrixSetDiagV3", "input diagonal k",
       lambda input, diagonal, k, align: la.set_diag(input, diagonal, k=k, align=align),
       align="RIGHT_LEFT")
OPS.op("MatrixInverse", "input", lambda input, adjoint: la.inv(input, adjoint=adjoint),
       adjoint=False)
OPS.op("MatrixDeterminant", "input", lambda input: la.det(input))
_LOGDET = outputs("LogMatrixDeterminant", "sign log_abs_determinant")
OPS.op("LogMatrixDeterminant", "input", lambda input: _LOGDET(*la.slogdet(input)))
OPS.op("Cholesky", "input", lambda input: la.cholesky(input))
_QR = outputs("Qr", "q r")
OPS.op("Qr", "input",
       lambda input, full_matrices: _QR(*la.qr(input, full_matrices=full_matrices)),
       full_matrices=False)
_SVD = outputs("Svd", "s u v")


def _svd(input, compute_uv, full_matrices):
    if compute_uv:
        return _SVD(*la.svd(input, full_matrices=full_matrices, compute_uv=True))
    # TF leaves u and v unset (uninitialised scalars) when compute_uv is False
    empty = tf.zeros([0], dtype=tf.convert_to_tensor(input).dtype)
    return _SVD(la.svd(input, compute_uv=False), empty, empty)


OPS.op("Svd", "input", _svd, compute_uv=True, full_matrices=False)
_EIG = outputs("SelfAdjointEigV2", "e v")


def _eigh(input, compute_v):
    e, v = la.eigh(input)
    return _EIG(e, v if compute_v else tf.zeros([0], dtype=e.dtype))


OPS.op("SelfAdjointEigV2", "input", _eigh, compute_v=True)
OPS.op("MatrixSolve", "matrix rhs",
       lambda matrix, rhs, adjoint: la.solve(matrix, rhs, adjoint=adjoint),
       adjoint=False)
OPS.op("MatrixTriangularSolve", "matrix rhs",
       lambda matrix, rhs, lower, adjoint: la.triangular_solve(
           matrix, rhs, lower=lower, adjoint=adjoint), lower=True, adjoint=False)
OPS.op("Diag", "diagonal", lambda diagonal: la.tensor_diag(diagonal))
OPS.op("DiagPart", "input", lambda input: la.tensor_diag_part(input))

# segment reductions
for _name, _fn in (("SegmentSum", m.segment_sum), ("SegmentMean", m.segment_mean),
                   ("SegmentMax", m.segment_max), ("SegmentMin", m.segment_min),
                   ("SegmentProd", m.segment_prod)):
    OPS.op(_name, "data segment_ids",
           lambda data, segment_ids, _fn=_fn: _fn(data, segment_ids))
for _name, _fn in (("UnsortedSegmentSum", m.unsorted_segment_sum),
                   ("UnsortedSegmentMax", m.unsorted_segment_max),
                   ("UnsortedSegmentMin", m.unsorted_segment_min),
                   ("UnsortedSegmentProd", m.unsorted_segment_prod)):
    OPS.op(_name, "data segment_ids num_segments",
           lambda data, segment_ids, num_segments, _fn=_fn: _fn(
               data, segment_ids, num_segments))
