"""TF's names for a traced graph: scoped node names, ``t.op`` and ``as_graph_def``.

Graphs name what they hold as TensorFlow's do ("add:0", "block/dense/MatMul:0"), so
printed tensors, errors and graph listings read the same (mixed into
``trace.Trace`` as ``GraphNames``).
"""

from dlframe.core.function_signature import _Operation
from dlframe.core.tensor import Tensor

# graph node names TF gives ops made by Python operators and some wrappers (others
# are named after their op type, as TF does)
NODE_NAMES = {"AddV2": "add", "Mul": "mul", "Sub": "sub", "RealDiv": "truediv",
              "Pow": "pow", "FloorDiv": "floordiv", "FloorMod": "mod",
              "ConcatV2": "concat", "StridedSlice": "strided_slice",
              "MatMul": "matmul"}   # x @ y; tf.matmul names its 'MatMul' (ops.names)


class GraphNames:
    """Names of a trace's tensors and scopes; the trace provides ``names`` (id ->
    "name:i"), ``op_types``, ``scopes``, ``_name_counts``, ``_last_name``,
    ``_constants``, ``nodes`` and ``parent``."""

    def _scoped(self, name):
        return self.scopes[-1] + name if self.scopes else name

    def enter_scope(self, name):
        """Enters ``tf.name_scope(name)`` in this graph; returns the graph's scope
        ('block/', 'block_1/' when 'block' is taken; 'top/' given as is)."""
        if name.endswith("/"):
            scope = name
        elif name:
            scope = self._unique_name(self._scoped(name)) + "/"
        else:
            scope = ""
        self.scopes.append(scope)
        return scope

    def exit_scope(self):
        self.scopes.pop()

    def name_outputs(self, out, name, start):
        """Renames the outputs of ``out`` made by nodes ``start:`` to TF's
        ``name=``: 'name:0' (unique in the current scope); 'a/' means 'a:0'."""
        made = {id(o) for node in self.nodes[start:] for o in node[2]}
        leaves = out if isinstance(out, (list, tuple)) else (out,)
        # outputs of the call's nodes, and values it made without a node (a
        # static tf.shape)
        leaves = [t for t in leaves if isinstance(t, Tensor) and (
            id(t) in made or (self.graph_name(t) is None and not t._is_variable))]
        if not leaves:
            return
        outs, last = self._last_name
        if any(t is o for t in leaves for o in outs):
            self._release_name(last)   # the node's default name, now unused
        base = name[:-1] if name.endswith("/") else \
            self._unique_name(self._scoped(name))
        for i, t in enumerate(leaves):
            self.names[id(t)] = f"{base}:{i}"

    def _release_name(self, name):
        """Gives back ``name`` when it is the newest of its base ('add_2' when
        'add' was taken 3 times), so the next op may take it."""
        base, _, suffix = name.rpartition("_")
        if not (base and suffix.isdigit()):
            base, suffix = name, "0"
        key = base.lower()
        if self._name_counts.get(key) == int(suffix) + 1:
            self._name_counts[key] = int(suffix)

    def name_constant(self, t, name):
        """Names a constant made inside the function ('Const:0', 'Const_1:0')."""
        self.names[id(t)] = f"{self._unique_name(self._scoped(name or 'Const'))}:0"
        self._constants.append(t)   # keeps its id unique while the trace lives

    def graph_op(self, t):
        """TF's ``t.op`` of traced ``t`` (``name``, ``type``), or None."""
        name = self.graph_name(t)
        if name is None:
            return None
        trace = self
        while trace is not None and id(t) not in trace.op_types:
            trace = trace.parent
        op_type = "Placeholder" if trace is None else trace.op_types[id(t)]
        return _Operation(name.rsplit(":", 1)[0], op_type)

    def _unique_name(self, base):
        # as TF's graph names: unique ignoring case ("add", "Add_1", "add_2")
        key = base.lower()
        n = self._name_counts.get(key, 0)
        self._name_counts[key] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def graph_name(self, t):
        """TF-style name of traced ``t`` ("x:0", "add_1:0"), or None."""
        trace = self
        while trace is not None:
            name = trace.names.get(id(t))
            if name is not None:
                return name
            trace = trace.parent
        return None


def node_defs(trace, outputs):
    """(name, op type, input names) per node of the traced graph as TF would list it
    (``as_graph_def``): Placeholders for inputs, captured values as Const /
    ReadVariableOp, the traced ops, and an Identity per output."""
    defs, names = [], {}

    def ref(t):
        name = names.get(id(t))
        if name is None:   # a captured eager tensor or a variable read
            op = "ReadVariableOp" if t._is_variable else "Const"
            node = trace._unique_name(op)
            defs.append((node, op, []))
            name = names[id(t)] = node
        return name

    for t in trace.inputs:
        name = trace.names.get(id(t)) or trace._unique_name("input") + ":0"
        names[id(t)] = name[:-2]
        defs.append((name[:-2], "Placeholder", []))
    for prim, inputs, outs, _attrs, _dev in trace.nodes:
        ins = [ref(t) for t in inputs]
        base = trace.names[id(outs[0])].rsplit(":", 1)[0] if outs else prim.name
        for i, o in enumerate(outs):
            names[id(o)] = base if i == 0 else f"{base}:{i}"
        defs.append((base, prim.name, ins))
    for t in outputs:
        defs.append((trace._unique_name("Identity"), "Identity", [ref(t)]))
    return defs
