"""Straight-line Python for a traced program: the compiled graph's fast executor.

Interpreting a program step by step costs ~1 us per node in Python (unpacking the
step, building the argument list, storing and freeing slots), as much as the
arithmetic of a small elementwise op. ``compile_program`` writes the program out as
one Python function instead: every slot is a local variable, every node one call
on locals, and dead intermediates are ``del``-ed right after their last reader
(the liveness the memory pass computed), so memory stays as small as before.
"""

import itertools
from sys import getrefcount

from dlframe.backends.base import np

# Beyond this many nodes, compiling the source costs more than it saves
MAX_COMPILED_NODES = 20000
# Outputs smaller than this are computed into fresh arrays: below it a reused
# buffer saves less than the ownership check costs (~0.3 us)
MIN_REUSE_ELEMENTS = 1 << 16
_counter = itertools.count()


def compile_program(program, outputs):
    """Returns ``run(slots) -> list of output arrays`` executing ``program``.

    Args:
      program: steps ``(forward, device, in_slots, out_slots, attrs, single,
        copy_out, dead_slots)`` as built by ``trace.Graph``.
      outputs: slots of the outputs, in order.

    The slot list passed to ``run`` holds the inputs, constants and variable
    values; it is only read, never written.
    """
    produced, loaded = set(), set()
    env, head, body = {}, [], []

    def name(s):
        return f"v{s}"

    def load(slots):  # inputs, constants and variable values come from the slot list
        for s in slots:
            if s not in produced and s not in loaded:
                loaded.add(s)
                head.append(f"    {name(s)} = slots[{s}]")

    for k, step in enumerate(program):
        forward, dev, ins, outs, attrs, single, copy_out, dead = step
        load(ins)
        env[f"f{k}"] = forward
        env[f"d{k}"] = dev
        args = "".join(f", {name(s)}" for s in ins)
        if attrs:
            env[f"a{k}"] = attrs
            args += f", **a{k}"
        call = f"f{k}(d{k}{args})"
        if single:
            body.append(f"    {name(outs[0])} = {call}{'.copy()' if copy_out else ''}")
        elif outs:
            body.append(f"    {''.join(name(s) + ', ' for s in outs)}= {call}")
        else:
            body.append(f"    {call}")
        produced.update(outs)
        dead = [s for s in dead if s in produced or s in loaded]
        if dead:
            body.append(f"    del {', '.join(name(s) for s in dead)}")
    load(outputs)
    result = ", ".join(name(s) for s in outputs)
    source = "\n".join(["def run(slots):", *head, *body, f"    return [{result}]"])
    code = compile(source, f"<dlframe graph {next(_counter)}>", "exec")
    exec(code, env)  # noqa: S102 - source generated above from slot numbers only
    run = env["run"]
    run.source = source
    run.program = program
    return run


class _IntoDeadInput:
    """Forward of a node that may write its result into input ``index``'s buffer.

    The buffer is reused only when nothing but the executing program refers to it
    (its reference count is the calibrated ``owned_refs``: no other slot, view,
    variable or cache holds it), it owns its memory (not a view) and is writable;
    otherwise, or when runtime shapes broadcast differently from the traced ones,
    the plain forward allocates as before.
    """

    owned_refs = None   # set by _calibrate()

    def __init__(self, forward, into, index):
        self.forward = forward
        self.into = into
        self.index = index

    def __call__(self, d, *arrays, **attrs):
        buf = arrays[self.index]
        if (getrefcount(buf) == self.owned_refs and type(buf) is np.ndarray
                and buf.base is None and buf.flags.writeable):
            try:
                return self.into(*arrays, out=buf)
            except ValueError:  # runtime shapes broadcast to another shape
                pass
        return self.forward(d, *arrays, **attrs)


def _reuses(owned_refs, alias):
    """Runs fresh -> [alias ->] negate-into-dead-input as compiled code with
    ``owned_refs``; True when the negation wrote into the fresh buffer."""
    made = []

    def fresh(d):
        buf = np.ones(3, "float32")
        made.append(id(buf))
        return buf
    _IntoDeadInput.owned_refs = owned_refs
    negate = _IntoDeadInput(lambda d, x: np.negative(x), np.negative, 0)
    program = [(fresh, None, (), (0,), {}, True, False, ())]
    outputs = [2]
    if alias:
        program.append((lambda d, x: x, None, (0,), (1,), {}, True, False, ()))
        outputs.append(1)
    program.append((negate, None, (0,), (2,), {}, True, False, (0,)))
    return id(compile_program(program, outputs)([])[0]) == made[0]


def _calibrate():
    """Finds the reference count of a buffer held only by the running program (a
    CPython detail that may change between versions) and checks that one more
    holder (an aliasing slot) stops the reuse; disables reuse if either fails."""
    for refs in range(1, 16):
        if _reuses(refs, alias=False):
            if _reuses(refs, alias=True):
                break
            _IntoDeadInput.owned_refs = refs
            return refs
    _IntoDeadInput.owned_refs = -1   # never equal: no reuse
    return None


def reuse_buffers(program, nodes, traced, owned):
    """Buffer-reuse pass: elementwise CPU nodes with an ``into`` kernel write their
    result into an input that dies at that node, when the traced shapes and dtypes
    match and the buffer is big enough to matter (``MIN_REUSE_ELEMENTS``).

    Args:
      program: steps as built by ``trace.Graph`` (same order as ``nodes``).
      nodes: ``[prim, in_slots, out_slots, attrs, device]`` per step.
      traced: slot -> array seen while tracing.
      owned: slots produced by nodes (not inputs, constants or variables).
    """
    if _IntoDeadInput.owned_refs is None:
        _calibrate()
    if _IntoDeadInput.owned_refs < 0:
        return program
    out = list(program)
    for k, (step, node) in enumerate(zip(program, nodes)):
        prim, ins, outs, attrs, dev = node
        if (prim.into is None or attrs or not step[5] or step[6]
                or getattr(dev, "kind", None) != "cpu"):
            continue
        result = traced.get(outs[0])
        if not isinstance(result, np.ndarray) or result.size < MIN_REUSE_ELEMENTS:
            continue
        for i, s in enumerate(ins):
            value = traced.get(s)
            if (s in step[7] and s in owned and ins.count(s) == 1
                    and isinstance(value, np.ndarray) and value.shape == result.shape
                    and value.dtype == result.dtype):
                out[k] = (_IntoDeadInput(step[0], prim.into, i),) + tuple(step[1:])
                break
    return out


# ---------------------------------------------------------------- variable rebinding
def rebinds(node):
    """Whether a node ``[prim, ins, outs, attrs, device]`` may point a variable at a
    new buffer: a resizing assign, or a branch/loop whose graph holds one."""
    prim, attrs = node[0], node[3]
    if prim.name == "AssignVariableOp":
        return attrs.get("mode") == "resize"
    return prim.effects and any(getattr(a, "rebinds", None) is not None
                                for a in attrs.values() if hasattr(a, "program"))


def rebinding_step(step, node, var_slots, table):
    """``step`` of a node that ``rebinds``, reading the run's {slot: Variable} table
    from slot ``table`` and also writing the slots of the variables it may rebind."""
    forward, dev, ins, outs, attrs, single, _copy_out, free = step
    resized = ins[0] if node[0].name == "AssignVariableOp" else None
    if resized is not None:
        var_slots = [resized]
    return (_Rebinding(forward, single, resized, tuple(var_slots)), dev,
            ins + (table,), outs + tuple(var_slots), attrs, False, False, free)


class _Rebinding:
    """Forward of a node that may give variables new buffers. A resizing assign
    points its variable (looked up in the run's table, as a call may swap the
    variables) at the buffer it made; after a branch or loop the variables' slots
    are read again, so later nodes see the new buffers. Old buffers stay alive
    while a tensor or view reads them (never resized in place)."""

    def __init__(self, forward, single, resized, var_slots):
        self.forward = forward
        self.single = single
        self.resized = resized
        self.var_slots = var_slots

    def __call__(self, d, *arrays, **attrs):
        table = arrays[-1]
        result = self.forward(d, *arrays[:-1], **attrs)
        if self.resized is not None:
            table[self.resized]._value = result
        result = (result,) if self.single else tuple(result)
        return result + tuple(table[s]._value for s in self.var_slots)


__all__ = ["MAX_COMPILED_NODES", "compile_program", "rebinding_step", "rebinds",
           "reuse_buffers"]
