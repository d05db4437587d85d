"""``dlframe.autodiff``: forward-mode autodiff (``ForwardAccumulator``) and the
``GradientTape`` alias, as in ``tf.autodiff``.

Jacobian-vector products are computed with the double-VJP identity: for
``y = f(x)`` the vector-Jacobian product ``g(u) = J^T u`` is linear in ``u``, so
``J v = d/du <J^T u, v>``. The accumulator records the primitives that touch its
primals exactly like a tape does; ``jvp(y)`` runs the recorded reverse sweep with a
watched seed ``u`` and differentiates its inner product with the tangents with
respect to ``u``. Gradient rules are written in dlframe ops, so both sweeps are
recorded by enclosing tapes and accumulators (Hessian-vector products, nested
forward mode) and by an active ``dlframe.function`` trace.
"""

from dlframe.core import basic
from dlframe.core.nest import assert_same_structure, flatten, pack_sequence_as
from dlframe.core.tape import (
    GradientTape,
    UnconnectedGradients,
    backprop,
    unconnected_mode,
)
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops import math as _math
from dlframe.ops import reduction as _reduction

__all__ = ["ForwardAccumulator", "GradientTape"]


def _is_float(x):
    return x.dtype.is_floating or x.dtype.is_complex


class ForwardAccumulator:
    """Computes Jacobian-vector products with forward-mode autodiff.

    Operations run inside the ``with`` block on (values derived from) ``primals``
    are recorded; ``jvp(y)`` then returns the directional derivative of ``y`` along
    ``tangents``. Nest it with a ``GradientTape`` for Hessian-vector products.

    Example:
      >>> x = tf.constant([1., 2.])
      >>> with tf.autodiff.ForwardAccumulator(x, tf.constant([1., 0.])) as acc:
      ...     y = tf.reduce_sum(x ** 2)
      >>> acc.jvp(y)   # 2 * x . v = 2.0

    Args:
      primals: a Tensor/Variable or nested structure of them to differentiate
        with respect to.
      tangents: the direction, with the structure, shapes and dtypes of ``primals``.

    Raises:
      TypeError: a primal is not a Tensor or Variable.
      ValueError: the structures, shapes or dtypes of ``primals`` and ``tangents``
        do not match.
    """

    def __init__(self, primals, tangents):
        try:
            assert_same_structure(primals, tangents, check_types=False)
        except (TypeError, ValueError) as e:
            raise ValueError(f"ForwardAccumulator: primals and tangents must have the "
                             f"same nested structure: {e}") from None
        self._primals = []
        self._tangents = []
        for p, v in zip(flatten(primals), flatten(tangents)):
            self._add_pair(p, v)
        self._tape = GradientTape(persistent=True, watch_accessed_variables=False)
        for p in self._primals:
            if _is_float(p):   # integer primals have no tangent space (as in TF)
                self._tape._watched[id(p)] = p

    def _add_pair(self, primal, tangent):
        if not isinstance(primal, Tensor):
            raise TypeError(f"ForwardAccumulator: primals must be Tensors or Variables, "
                            f"got {type(primal).__name__}: {primal!r}")
        if isinstance(tangent, Tensor) and tangent.dtype != primal.dtype:
            raise ValueError(f"Tensor conversion requested dtype {primal.dtype.name} "
                             f"for Tensor with dtype {tangent.dtype.name}: {tangent!r}")
        tangent = convert_to_tensor(tangent, dtype=primal.dtype)
        if tuple(tangent.shape) != tuple(primal.shape):
            raise ValueError(f"ForwardAccumulator: a tangent's shape must match its "
                             f"primal's: tangent shape {list(tangent.shape)} vs primal "
                             f"shape {list(primal.shape)}")
        self._primals.append(primal)
        self._tangents.append(tangent)

    def __enter__(self):
        if not self._tape._active:
            self._tape._push()
        return self

    def __exit__(self, *exc):
        self._tape._pop()
        return False

    def jvp(self, primals, unconnected_gradients=UnconnectedGradients.NONE):
        """The Jacobian-vector product of ``primals`` (outputs computed while
        recording) along this accumulator's tangents.

        Args:
          primals: a Tensor or nested structure of Tensors.
          unconnected_gradients: ``tf.UnconnectedGradients.NONE`` (None for values
            that do not depend on the watched primals) or ``ZERO`` (zeros).

        Returns:
          JVPs with the structure of ``primals``.
        """
        zero = unconnected_mode(unconnected_gradients) == "zero"
        out = []
        for y in flatten(primals):
            if not isinstance(y, Tensor):
                raise TypeError(f"ForwardAccumulator.jvp: expected Tensors, got "
                                f"{type(y).__name__}: {y!r}")
            jvp = self._jvp_one(y) if _is_float(y) else None
            if jvp is None and zero and _is_float(y):
                jvp = basic.zeros_like_t(y)
            out.append(jvp)
        return pack_sequence_as(primals, out)

    def _jvp_one(self, y):
        if id(y) not in self._tape._watched:
            return None
        was_active = self._tape._active
        self._tape._pop()   # the sweeps below are not part of this accumulator's record
        try:
            seed = basic.zeros_like_t(y)
            with GradientTape(watch_accessed_variables=False) as inner:
                inner.watch(seed)
                vjps = backprop(self._tape._entries, [y], [seed], self._primals)
                terms = [_reduction.reduce_sum(_math.multiply(g, v))
                         for g, v in zip(vjps, self._tangents) if g is not None]
                if not terms:
                    return None
                total = terms[0] if len(terms) == 1 else _math.add_n(terms)
            return inner.gradient(total, seed)
        finally:
            if was_active:
                self._tape._push()

