"""One run of a user layer's ``call`` on placeholders, as TF's functional construction.

TF builds a functional model by running each layer's ``call`` once on symbolic
tensors: user code sees ``None`` for the unknown dimensions (``print(x.shape)``
shows ``(None, 3)``), ``tf.executing_eagerly()`` is False, and side effects happen
once. dlframe runs the call on concrete placeholders under a ``Trace`` whose inputs
carry the KerasTensors' unknown dimensions: the trace's static view shows user code
the ``None`` dimensions, and its marks (which output dimensions follow an unknown
input dimension) give the output specs from this single run.

A mark can be lost on the way, because dlframe's own code reads the placeholders'
concrete sizes: an op without a static-shape rule reshapes marked data, a value
computed from an unknown size (``tf.shape``) shapes a result, an op takes its sizes
from arguments that may hold such a read (a reshape's target, a stack of a loop's
steps), or an elementwise op meets a tensor whose size along a marked axis was read
as a number. The results that depend on such a step are *uncertain*, and the caller
then compares with a second, quiet run at another placeholder size, as it does for
dlframe's own layers. Only rules whose output sizes come from their inputs' shapes
and from layer configuration (``TRUSTED_RULES``) carry marks on.
"""

from dlframe.core import trace as _trace
from dlframe.core.primitive import STATE
from dlframe.core.static_dims import _rule_marks, aligned_axes
from dlframe.core.tensor import _PACKAGE_DIR

_EMPTY = frozenset()

# static-shape rules whose known output sizes come only from their inputs' shapes and
# from configuration (windows, strides, depths), never from sizes code computed
TRUSTED_RULES = frozenset({
    "All", "Any", "ArgMax", "ArgMin", "AvgPool", "Conv2D", "Conv3D",
    "DepthwiseConv2dNative", "Einsum", "ExpandDims", "GatherLast", "LayerNorm",
    "MatMul", "Max",
    "MaxPool", "Mean", "Min", "MirrorPad", "OneHot", "PadV2", "Prod", "ReshapeLike",
    "SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits", "Squeeze",
    "Sum", "TopKIndices", "Transpose"})
# ops whose values are sizes: results computed from them depend on unknown sizes
SIZE_VALUES = frozenset({"Shape", "ShapeN", "Size"})


class MarkTrace(_trace.Trace):
    """A trace that also tracks results whose unknown dimensions marks cannot tell."""

    def __init__(self):
        super().__init__(allow_variable_creation=True)
        self.keeps_static = True   # set_shape refines static dims, as TF's graph
        # as TF's symbolic call, nothing runs: variable writes, prints and
        # py_function bodies are recorded, not done (a py_function gives placeholders)
        self.run_effects = self.py_runs_now = False
        self.uncertain = set()   # ids of tensors whose static dims marks cannot tell
        # a size along an unknown dimension was taken as a value: code may read it on
        # the host (a shape argument), so no result's dims can be told from marks
        self.read_unknown_size = False

    def add_placeholder(self, tensor, static_shape, value_depends_on_size=False):
        """Adds a placeholder input; ``value_depends_on_size``: its value was computed
        from an unknown size (``tf.shape(x)[0]`` of an earlier layer)."""
        self.add_input(tensor, static_shape=static_shape)
        if value_depends_on_size:
            self.uncertain.add(id(tensor))

    def is_dynamic(self, t):
        # a size along an unknown dimension is a graph value (tf.shape records a
        # Shape op), so what is computed from it is seen to depend on it
        return id(t) in self.unknown_axes or super().is_dynamic(t)

    def record(self, prim, inputs, outs, attrs, dev):
        super().record(prim, inputs, outs, attrs, dev)
        if any(id(t) in self.uncertain for t in inputs) or \
                self._marks_lost(prim, inputs, outs, attrs):
            self.uncertain.update(id(o) for o in outs)

    def _marks_lost(self, prim, inputs, outs, attrs):
        in_marks = [self.unknown_axes.get(id(t), _EMPTY) for t in inputs]
        if not any(in_marks):
            return False
        if prim.name in SIZE_VALUES:
            self.read_unknown_size = True
            return True
        if getattr(prim, "static_shape", None) is not None:
            return prim.name not in TRUSTED_RULES or \
                _rule_marks(prim, inputs, in_marks, attrs, outs) is None
        shape, unknown, known = aligned_axes(inputs, in_marks)
        if shape is None or any(tuple(o._value.shape) != shape for o in outs):
            return True   # not elementwise: where the unknown sizes went is not known
        # an input sized along an unknown axis was made from a size read as a number
        return bool(unknown & known)

    def is_certain(self, t):
        return not self.read_unknown_size and id(t) not in self.uncertain

    def static_dims(self, t):
        """``t``'s dims with None where an unknown input dimension reached it."""
        dims = self.static_shape(t)
        return list(t._value.shape) if dims is None else dims


def applies_to(layer):
    """Whether ``layer`` runs user code in its call (a user's Layer subclass or a
    Lambda of a user function), whose prints and side effects TF makes once; and no
    trace is active (a model built inside a dlframe.function keeps the plain runs)."""
    if STATE.trace is not None:
        return False
    if _user_code(type(layer).call):
        return True
    return _user_code(getattr(layer, "function", None))


def _user_code(fn):
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return code is not None and not code.co_filename.startswith(_PACKAGE_DIR)
