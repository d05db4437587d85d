"""Deferred errors of a function's trace (mixed into ``trace.Trace``)."""

from dlframe.core.primitive import STATE
from dlframe.errors import InvalidArgumentError


class DeferredErrors:
    """A function's trace defers the index errors of pure ops (``defers_errors``):
    an op that raised InvalidArgumentError runs again probing, as in a branch
    (``ops._util.probing_branch``); a stand-in result it gives taints what is
    computed from it (``tainted``, kept by ``Trace.record``). TF prunes ops whose
    results are unused, so an unused out-of-range ``tf.gather`` raises nothing; a
    tainted value reaching an effect (assign, print, assert) or the function's
    outputs raises the op's own error, and the graph's node checks the real
    indices whenever it runs.
    """

    defers_errors = False
    probing_now = False   # an op runs again for a stand-in (see stand_in_result)

    def tainted_origin(self, tensors):
        """The deferred-error node behind one of ``tensors``, or None."""
        tainted = self.tainted
        for t in tensors:
            origin = tainted.get(id(t))
            if origin is not None:
                return origin
        return None

    def stand_in_result(self, prim, dev, arrays, attrs):
        """The stand-in result of a pure op whose forward just raised, or None
        when the op gives none (it has no probing form: its error stands)."""
        self.probing_now = True
        try:
            result = prim.forward(dev, *arrays, **attrs)
        except Exception:  # noqa: BLE001 - no stand-in: the first error stands
            result = None
        finally:
            self.probing_now = False
        if not STATE.stand_in:
            return None
        return result

    def result_after_error(self, prim, dev, inputs, arrays, attrs, exc):
        """The stand-in result of ``prim``, whose forward just raised ``exc``, or
        None when ``exc`` stands. An input made from a stand-in raises the first
        op's error instead (TF's graph fails there first: a clipped gather index
        must not surface as a later op's division by zero)."""
        self.refuse_tainted(inputs)
        if not isinstance(exc, InvalidArgumentError) or not self.defers_errors or \
                prim.stateful:
            return None
        result = self.stand_in_result(prim, dev, arrays, attrs)
        if result is None:
            STATE.stand_in = False
        return result

    def refuse_tainted(self, tensors):
        """Raises the deferred error behind ``tensors`` (an effect or an output
        needs them: TF's graph would run the failing op), if there is one. A
        branch's trace looks in its function's trace (where the marks are)."""
        origin = self.root.tainted_origin(tensors)
        if origin is None:
            return
        prim, inputs, attrs, dev = origin
        trace, STATE.trace = STATE.trace, None   # no probe (a branch's): its error
        try:
            prim.forward(dev, *[t._value for t in inputs], **(attrs or {}))
        finally:
            STATE.trace = trace
            STATE.stand_in = False
        raise InvalidArgumentError(
            f"{prim.name}: an input value is out of range [Op:{prim.name}]")
