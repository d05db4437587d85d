"""What a trace knows of ``tf.py_function`` results it did not compute.

As TF, tracing a cond branch, a loop body or a ``get_concrete_function`` does not
call py_function bodies (``ops.py_func``): their results are placeholders, sized by
``set_shape`` / ``ensure_shape``. A trace that computed with one whose full shape it
was never given is repeated with the bodies run (``run_py_bodies``).
"""

from dlframe.core import static_dims as _static_dims


class PyPlaceholders:
    """Trace methods for py_function placeholder results (a mixin of ``Trace``,
    whose ``__init__`` sets ``py_placeholders``, ``run_py_bodies`` and
    ``keeps_static``)."""

    # a function's trace sets ``py_runs_now`` (True: the trace is the call's run);
    # a branch trace False where it surely does not run right after (see
    # ``branch_runs_now``); None: unknown
    py_runs_now = None
    py_stale = False   # a branch kept placeholder shapes: trace again at next call
    py_retry = False   # a nested branch needs the bodies run: so does this one

    @property
    def root(self):
        """The outermost trace: the function's own, above its branch/body traces."""
        root = self
        while root.parent is not None:
            root = root.parent
        return root

    def branch_runs_now(self, selected):
        """Whether a cond branch or loop body traced inside this trace runs right
        after its trace: False where it surely does not (this trace runs nothing, or
        a function's run does not take it: ``selected()``, read from the run's real
        values, is false), else None (it may)."""
        if self.py_runs_now is None:
            return None
        if not self.py_runs_now:
            return False
        return None if self.parent is not None or selected() else False

    def defer_py_bodies(self):
        """A branch of this trace that does not run now computed with unshaped
        py_function placeholders: rather than run their bodies (TF does not), the
        function's graph is provisional and traced again at its next call."""
        self.root.py_stale = True

    def py_bodies_run(self):
        """True when py_function bodies run while traced (this trace or an enclosing
        one is a retry of a trace that could not go on with placeholder results)."""
        trace = self
        while trace is not None:
            if getattr(trace, "run_py_bodies", False):
                return True
            trace = trace.parent
        return False

    def shape_placeholder(self, tensor, shape):
        """Gives a py_function's placeholder result ``tensor`` the ``shape`` of its
        ``set_shape`` / ``ensure_shape`` (None dims: size 1), so the ops after it can
        run; its static shape stays unknown except where the trace refines it."""
        trace = self
        while trace is not None:
            found = trace.py_placeholders.get(id(tensor))
            if found is not None and found[0] is tensor:
                if found[1](tensor, shape):
                    trace.note_unknown(tensor, frozenset(
                        range(tensor._value.ndim)) | {_static_dims.RANK})
                dims = getattr(shape, "dims", shape)
                if dims is not None and all(
                        getattr(d, "value", d) is not None for d in dims):
                    found[2] = True   # fully shaped: ops may run on it
                return
            trace = trace.parent

    def uses_unshaped_placeholders(self, outputs=()):
        """True when an op of this trace, or one of its ``outputs``, reads a
        py_function placeholder whose full shape no ``set_shape`` gave: the graph
        would bake shapes (reduction axes, sizes) of a value it never saw, so the
        trace must be repeated with the bodies run."""
        unshaped = {key for key, (_, _, shaped) in self.py_placeholders.items()
                    if not shaped}
        if not unshaped:
            return False
        if any(id(x) in unshaped for x in outputs):
            return True
        return any(id(x) in unshaped for node in self.nodes for x in node[1])

    def note_static_shape(self, tensor, shape):
        """``tensor.set_shape(shape)`` inside this trace."""
        self.shape_placeholder(tensor, shape)
        if self.keeps_static:
            self._fit_stand_in(tensor, shape)
            _static_dims.refine_static(self, tensor, shape)

    def _fit_stand_in(self, tensor, shape):
        """Gives ``tensor`` the sizes ``shape`` sets where its value, computed from
        placeholders a ``get_concrete_function`` trace (or a branch's) made up, has
        others: TF's graph knows them from now on (``reshape(x, [-1, 4])`` of a
        4-sized placeholder then ``set_shape([3, 4])``), and the ops after it must
        see them (``range(y.shape[0])``). The graph computes the real values."""
        dims = getattr(shape, "dims", shape)
        value = tensor._value
        if dims is None or len(dims) != value.ndim:
            return
        want = [h if getattr(d, "value", d) is None else int(getattr(d, "value", d))
                for d, h in zip(dims, value.shape)]
        if tuple(want) == tuple(value.shape):
            return
        root = self.root
        if root.py_runs_now is not False and (
                self.parent is None or id(tensor) not in self.produced):
            # real values of a run: a wrong set_shape is the caller's (a branch's
            # own tensors may be stand-ins; the tensors it captures from the
            # function are the run's results)
            return
        tensor._value = tensor._device.xp.resize(value, want)
