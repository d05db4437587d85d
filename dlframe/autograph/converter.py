"""AutoGraph's source transformation: tensor-dependent Python control flow -> graph ops.

Converted forms: ``if``/``else`` (incl. branches that ``return``, and an early
``if ...: return`` followed by the rest of the function), ``while``, ``for`` over
``range``/``tf.range`` with tensor bounds and over tensors, ``break``/``continue``
inside those loops (lowered to flags that guard the rest of the body), ``return``
inside loops (below), ``and``/``or``/``not``, ``print`` and calls to user functions
(converted recursively at run time). Variables first assigned inside a loop body are
per-iteration temporaries, not loop state.

``return`` inside loops is lowered onto ``break``, as TF's AutoGraph does, with one
flag pair per function: ``_ag_did_return_N = False`` starts the function and
``return v`` in a loop becomes ``_ag_retval_N = v; _ag_did_return_N = True; break``.
After a statement holding such a loop, ``if _ag_did_return_N: break`` leaves an
enclosing loop too, ``if _ag_did_return_N: return _ag_retval_N`` in the function body
pairs with the rest of the function (an implicit final ``return None`` is made
explicit) as an early-return if/else, hence a ``cond`` when the flag is a tensor, and
``if not _ag_did_return_N:`` guards the rest of a block nested in ``with``/``if``/
``try``. After a ``while True:`` with no break of its own the guard is unconditional.
Python loops keep Python semantics exactly (the flags are plain bools there).

A graph loop must carry the return value from its first iteration, so the runtime
gives an undefined one a placeholder (``returns=`` positions in the converted call):
zeros with the structure, dtypes and shapes of the value it is first assigned, found
by tracing one iteration of the body (or the branches of a tensor ``if``) once more
into a throwaway sub-graph. The placeholder is only read when did_return is true,
which the same code sets; when no ``return`` is reachable in the trace, did_return
keeps its Python value. Requirements when did_return is a tensor, as in TF: every
``return`` of the function gives the same structure and dtypes (else ``cond`` names
the mismatch; falling off the end returns ``None``), the value keeps its shape across
iterations, and a variable first assigned after the loop in the same nested block is
undefined after that block. A tensor-dependent ``return`` (or ``break``) in a ``for``
over a Python iterable raises NotImplementedError; a Python ``while`` whose test turns
symbolic that way continues as a graph loop. Python side effects of the staged code
run once more at trace time. Not converted: loops in generators, and early returns
in nested blocks that do not end in ``return`` (as for ``if``).
"""

import ast
import types

from dlframe.autograph import runtime
from dlframe.autograph.analysis import (
    _assigned,
    _contains,
    _read_before_set,
    _read_elsewhere,
)
from dlframe.autograph.source import _LAMBDA_NAME, _lambda_def, _parse  # noqa: F401

_CACHE = {}


def _load(name):
    return ast.Name(id=name, ctx=ast.Load())


def _ag(attr):
    return ast.Attribute(value=_load("ag__"), attr=attr, ctx=ast.Load())


def _tuple(names, ctx):
    return ast.Tuple(elts=[ast.Name(id=n, ctx=ctx()) for n in names], ctx=ctx())


def _init(names):
    return ast.Tuple(elts=[ast.Call(func=_ag("ld"), args=[ast.Lambda(
        args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                           defaults=[]), body=_load(n))], keywords=[]) for n in names],
        ctx=ast.Load())


def _set(name, value):
    """``name = value`` (``value``: an expression node or a Python constant)."""
    if not isinstance(value, ast.AST):
        value = ast.Constant(value)
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _blocks(stmt):
    """(node, field) of each statement list directly inside compound statement ``stmt``
    (incl. ``except`` handlers and ``match`` cases); none inside nested scopes."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    owners = ([stmt] + list(getattr(stmt, "handlers", []))
              + list(getattr(stmt, "cases", [])))
    return [(node, field) for node in owners
            for field in ("body", "orelse", "finalbody")
            if isinstance(getattr(node, field, None), list)]


def _own_jumps(stmts, kinds=(ast.Break, ast.Continue)):
    """Whether a loop body ``stmts`` holds a jump of that loop: not one inside a nested
    loop's body (its ``else`` clause does jump in this loop) or a nested scope."""
    for s in stmts:
        if isinstance(s, kinds):
            return True
        blocks = [(s, "orelse")] if isinstance(s, (ast.For, ast.While)) else _blocks(s)
        if any(_own_jumps(getattr(node, field), kinds) for node, field in blocks):
            return True
    return False


def _loop_return_inside(stmt):
    """Whether ``stmt`` holds a ``return`` inside a loop (not in a nested scope)."""
    if isinstance(stmt, (ast.For, ast.While)) and _contains(stmt.body, ast.Return):
        return True
    return any(_loop_return_inside(s) for node, field in _blocks(stmt)
               for s in getattr(node, field))


def _left_only_by_return(stmt):
    """``while True:`` (any true constant) without a ``break`` of its own."""
    return isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and \
        bool(stmt.test.value) and not _own_jumps(stmt.body, ast.Break)


def _thunk(expr):
    """``lambda: expr``."""
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[],
                                         kw_defaults=[], defaults=[]), body=expr)


def _one_sided_return(node):
    """The branch ("else"/"main") missing a ``return`` the other one has, if any."""
    body, orelse = _contains(node.body, ast.Return), _contains(node.orelse, ast.Return)
    if body == orelse:
        return None
    return "else" if body else "main"


def _ag_call(helper, args, keywords=()):
    return ast.Call(func=_ag(helper), args=args, keywords=list(keywords))


def _bind(names, call):
    """``names = call`` (a bare call when there are none)."""
    if names:
        return ast.Assign(targets=[_tuple(names, ast.Store)], value=call)
    return ast.Expr(value=call)


def _convertible_loop(node):
    """Whether a loop, after jump lowering, can become a graph loop."""
    return not node.orelse and not _contains(node.body, (
        ast.Return, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom))


def _fn(name, params, body):
    return ast.FunctionDef(
        name=name,
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params],
                           kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body or [ast.Pass()], decorator_list=[], returns=None, type_params=[])


class _Transformer(ast.NodeTransformer):
    def __init__(self):
        self.count = 0
        self.returns = {}  # retval name -> did-return flag name, per function
        self.roots = []    # the functions being converted, innermost last
        # break/continue flags of the loops being converted: read by code that is
        # generated only when their loop is done, so always handed on
        self.loop_flags = set()
        self.loop_depth = 0     # loops around the statement being converted
        self.branch_depth = 0   # ``if`` branches around it
        self.entry_reads = {}   # id(if node) -> _read_before_set of it, unconverted

    def _live(self, node, names):
        # the lowered-return pair too: the runtime reads it (returns=...); inside a
        # loop, a name the statement reads before setting it is read by the next
        # iteration (``i`` in ``if c: ta = ta.write(i, x); i += 1``)
        always = self.loop_flags.union(self.returns, self.returns.values())
        if self.loop_depth:
            always |= self.entry_reads.get(id(node), set())
        return _read_elsewhere(self.roots[-1] if self.roots else None, node, names,
                               always)

    def _names_kw(self, node, names, keyword):
        """``keyword=(...)`` for the runtime: for an ``if`` the names (for its
        messages), for a loop the positions of names read after it (``live``)."""
        if keyword == "names":
            value = ast.Tuple(elts=[ast.Constant(n) for n in names], ctx=ast.Load())
        else:
            live = self._live(node, names)
            value = ast.Tuple(elts=[ast.Constant(names.index(n)) for n in live],
                              ctx=ast.Load())
        return [ast.keyword(arg=keyword, value=value)]

    def _next(self, kind):
        self.count += 1
        return f"ag__{kind}_{self.count}"

    # -- return inside loops ------------------------------------------------------
    def _lower_returns(self, stmts, flags, where):
        """Rewrites each ``return v`` inside a loop into ``retval = v;
        did_return = True; break`` and, after each statement holding such a loop,
        leaves as the return would: ``if did_return: break`` in a loop (the break
        lowering then guards the rest), ``if did_return: return retval`` in the
        function body, and ``if not did_return:`` around the rest of a block nested in
        other statements.
        ``flags``: the (did_return, retval) names; ``where``: "loop", "function" or
        "block"."""
        did, retval = flags
        out = []
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Return) and where == "loop":
                out += [_set(retval, stmt.value or ast.Constant(None)), _set(did, True),
                        ast.Break()]
                continue
            holds_loop_return = _loop_return_inside(stmt)
            # judged before its returns are lowered
            only_by_return = _left_only_by_return(stmt)
            if holds_loop_return or where == "loop" and _contains([stmt], ast.Return):
                self._lower_blocks(stmt, flags, where)
            out.append(stmt)
            if not holds_loop_return:
                continue
            if where == "block":
                rest = self._lower_returns(stmts[i + 1:], flags, where)
                not_did = ast.UnaryOp(op=ast.Not(), operand=_load(did))
                out += [ast.If(test=not_did, body=rest, orelse=[])] if rest else []
                break
            leave = ast.Break() if where == "loop" else ast.Return(value=_load(retval))
            out.append(leave if only_by_return
                       else ast.If(test=_load(did), body=[leave], orelse=[]))
        return out

    def _lower_blocks(self, stmt, flags, where):
        is_loop = isinstance(stmt, (ast.For, ast.While))
        for node, field in _blocks(stmt):
            inner = "loop" if where == "loop" or is_loop and node is stmt and \
                field == "body" else "block"
            setattr(node, field,
                    self._lower_returns(getattr(node, field), flags, inner))

    def _return_flags(self):
        """The (did_return, retval) names of one function's lowered loop returns; not
        "ag__"-prefixed: _assigned() must see them as loop / branch state."""
        self.count += 1
        did, retval = f"_ag_did_return_{self.count}", f"_ag_retval_{self.count}"
        self.returns[retval] = did
        return did, retval

    def _returns_kw(self, names):
        """``returns=(did_return index, retval index)`` for the runtime when ``names``
        carry a lowered loop return (it gives the return value a placeholder)."""
        for retval, did in self.returns.items():
            if retval in names and did in names:
                slots = ast.Tuple(elts=[ast.Constant(names.index(did)),
                                        ast.Constant(names.index(retval))],
                                  ctx=ast.Load())
                return [ast.keyword(arg="returns", value=slots)]
        return []

    # -- break / continue lowering ----------------------------------------------
    def _lower_jumps(self, body, brk, cont):
        """Rewrites ``break``/``continue`` of this loop into flag assignments and guards
        the statements after a possible jump with ``if not (brk or cont):``."""
        out = []
        for i, stmt in enumerate(body):
            jumps = _own_jumps([stmt])
            out.append(self._replace_jumps(stmt, brk, cont))
            rest = body[i + 1:]
            if jumps and rest:
                test = ast.UnaryOp(op=ast.Not(), operand=ast.BoolOp(
                    op=ast.Or(), values=[_load(brk), _load(cont)]))
                out.append(ast.If(test=test, body=self._lower_jumps(rest, brk, cont),
                                  orelse=[]))
                break
        return out

    def _replace_jumps(self, stmt, brk, cont):
        if isinstance(stmt, ast.Break):
            return _set(brk, True)
        if isinstance(stmt, ast.Continue):
            return _set(cont, True)
        if isinstance(stmt, (ast.For, ast.While)):
            # jumps in their bodies are theirs; their else clauses run in this loop
            stmt.orelse = self._lower_jumps(stmt.orelse, brk, cont)
            return stmt
        for node, field in _blocks(stmt):
            block = getattr(node, field)
            if block:
                setattr(node, field, self._lower_jumps(block, brk, cont))
        return stmt

    def _loop_with_jumps(self, node):
        """The break flag, the lowered body and the flags' initialisation when the loop
        uses break/continue (else None, the body unchanged, no initialisation)."""
        if node.orelse or _contains(node.body, (ast.Return, ast.Yield, ast.YieldFrom)) \
                or not _own_jumps(node.body):
            return None, node.body, []
        # not "ag__"-prefixed: _assigned() must see the flags as loop state
        self.count += 1
        brk, cont = f"_ag_break_{self.count}", f"_ag_continue_{self.count}"
        body = [_set(cont, False)] + self._lower_jumps(node.body, brk, cont)
        self.loop_flags.update((brk, cont))
        return brk, body, [_set(brk, False), _set(cont, False)]

    # -- statement lists: early-return normalisation -------------------------
    def _block(self, stmts):
        out = []
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if (isinstance(s, ast.If) and not s.orelse and s.body
                    and isinstance(s.body[-1], ast.Return) and i + 1 < len(stmts)
                    and isinstance(stmts[-1], ast.Return)):
                s.orelse = stmts[i + 1:]
                out.append(s)
                break
            out.append(s)
            i += 1
        result = []
        for s in out:
            new = self.visit(s)
            if isinstance(new, list):
                result.extend(new)
            elif new is not None:
                result.append(new)
        return result

    def _loop_body(self, stmts):
        self.loop_depth += 1
        try:
            return self._block(stmts)
        finally:
            self.loop_depth -= 1

    def visit_FunctionDef(self, node):
        if any(_loop_return_inside(s) for s in node.body) and not _contains(
                node.body, (ast.Yield, ast.YieldFrom)):
            flags = self._return_flags()
            body = self._lower_returns(node.body, flags, "function")
            # an explicit final return pairs with the guards as an if/else
            end = [] if isinstance(body[-1], ast.Return) else [ast.Return(value=None)]
            node.body = [_set(flags[0], False)] + body + end
        self.roots.append(node)
        depth, self.loop_depth = self.loop_depth, 0   # a nested def starts afresh
        branches, self.branch_depth = self.branch_depth, 0
        try:
            node.body = self._block(node.body)
        finally:
            self.roots.pop()
            self.loop_depth, self.branch_depth = depth, branches
        return node

    def visit_Delete(self, node):
        # a block that may become a branch/loop-body function hands its names back
        # when it ends: ``del x`` there marks x undefined instead (as TF's AutoGraph)
        if not (self.loop_depth or self.branch_depth) or not all(
                isinstance(t, ast.Name) for t in node.targets):
            return node
        return [_set(t.id, _ag("Undefined")) for t in node.targets]

    def visit_If(self, node):
        if self.loop_depth:
            self.entry_reads[id(node)] = _read_before_set([node])
        node.test = self.visit(node.test)
        self.branch_depth += 1
        try:
            node.body = self._block(node.body)
            node.orelse = self._block(node.orelse)
        finally:
            self.branch_depth -= 1
        both_return = (node.body and node.orelse
                       and isinstance(node.body[-1], ast.Return)
                       and isinstance(node.orelse[-1], ast.Return)
                       and not _contains(node.body[:-1] + node.orelse[:-1], ast.Return))
        if both_return:
            names = _assigned(node.body + node.orelse)
            t, f = self._next("if_true"), self._next("if_false")
            call = _ag_call("if_exp", [node.test, _load(t), _load(f), _init(names)])
            return [_fn(t, names, node.body), _fn(f, names, node.orelse),
                    ast.Return(value=call)]
        if _contains(node.body + node.orelse, (ast.Return, ast.Break, ast.Continue,
                                               ast.Yield, ast.YieldFrom)):
            one_sided = _one_sided_return(node)
            if one_sided:   # left to Python: a tensor test is TF's ValueError there
                node.test = _ag_call("python_if_test",
                                     [node.test, ast.Constant(one_sided)])
            return node
        assigned = _assigned(node.body + node.orelse)
        # the branches take every name they assign (they may read it first) and hand
        # on the ones read after the if: first, so both share their positions
        outs = self._live(node, assigned)
        names = outs + [n for n in assigned if n not in outs]
        t, f = self._next("if_true"), self._next("if_false")
        ret = ast.Return(value=_tuple(outs, ast.Load))
        call = _ag_call("if_stmt", [node.test, _load(t), _load(f), _init(names)],
                        self._returns_kw(outs) + self._names_kw(node, outs, "names"))
        return [_fn(t, names, node.body + [ret]), _fn(f, names, node.orelse + [ret]),
                _bind(outs, call)]

    def visit_While(self, node):
        brk, node.body, prelude = self._loop_with_jumps(node)
        if brk is not None:
            node.test = ast.BoolOp(op=ast.And(), values=[
                ast.UnaryOp(op=ast.Not(), operand=_load(brk)), node.test])
        node.test = self.visit(node.test)
        node.body = self._loop_body(node.body)
        node.orelse = self._block(node.orelse)
        self.loop_flags.difference_update(_assigned(prelude))
        if not _convertible_loop(node):
            return prelude + [node]
        names = _assigned(node.body)
        c, b = self._next("while_cond"), self._next("while_body")
        ret = ast.Return(value=_tuple(names, ast.Load))
        call = _ag_call("while_stmt", [_load(c), _load(b), _init(names)],
                        self._returns_kw(names) + self._names_kw(node, names, "live")
                        + self._names_kw(node, names, "names"))
        return prelude + [_fn(c, names, [ast.Return(value=node.test)]),
                          _fn(b, names, node.body + [ret]), _bind(names, call)]

    def visit_For(self, node):
        brk, node.body, prelude = self._loop_with_jumps(node)
        header = _range_header(node.iter)
        if header is not None:
            node.iter = _ag_call("range_", [self.visit(a) for a in node.iter.args],
                                 header)
        else:
            node.iter = self.visit(node.iter)
        node.body = self._loop_body(node.body)
        node.orelse = self._block(node.orelse)
        self.loop_flags.difference_update(_assigned(prelude))
        if not _convertible_loop(node):
            if brk is not None:  # a Python loop: honour the lowered break itself
                node.body.append(ast.If(test=_load(brk), body=[ast.Break()], orelse=[]))
            return prelude + [node]
        target_names = _assigned([ast.Assign(targets=[node.target],
                                             value=ast.Constant(0))])
        # the target is re-bound from the item inside the body; it is loop state only
        # when read after the loop (it then keeps the last item, as in Python and TF)
        names = [n for n in _assigned(node.body) if n not in target_names]
        names += [n for n in self._live(node, target_names) if n not in names]
        b = self._next("for_body")
        item = self._next("item")
        ret = ast.Return(value=_tuple(names, ast.Load))
        body = ([ast.Assign(targets=[node.target], value=_load(item))] + node.body
                + [ret])
        # a loop with only `continue` never sets its break flag: nothing to stop on
        stop_at = ast.Constant(names.index(brk) if brk in names else None)
        call = _ag_call("for_stmt", [node.iter, _load(b), _init(names), stop_at],
                        self._returns_kw(names) + self._names_kw(node, names, "live")
                        + self._names_kw(node, names, "names"))
        return prelude + [_fn(b, [item] + names, body), _bind(names, call)]

    # -- expressions -----------------------------------------------------------
    def visit_BoolOp(self, node):
        self.generic_visit(node)
        fn = "and_" if isinstance(node.op, ast.And) else "or_"
        return ast.Call(func=_ag(fn), args=[_thunk(v) for v in node.values],
                        keywords=[])

    def visit_IfExp(self, node):
        """``a if test else b`` -> ``if_exp(test, lambda: a, lambda: b, ())``."""
        self.generic_visit(node)
        return _ag_call("if_exp", [node.test, _thunk(node.body), _thunk(node.orelse),
                                   ast.Tuple(elts=[], ctx=ast.Load())])

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return ast.Call(func=_ag("not_"), args=[node.operand], keywords=[])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id == "print":
            # ``print`` goes along too: a user's own ``print`` is called as such
            return ast.Call(func=_ag("print_"), args=node.args,
                            keywords=[*node.keywords,
                                      ast.keyword(arg="__fn", value=func)])
        if isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1 \
                and not node.keywords:
            # ``len`` itself goes along: a local or global ``len`` of the user's
            # own is called as such (converted), not as the builtin
            return ast.Call(func=_ag("len_"), args=node.args,
                            keywords=[ast.keyword(arg="fn", value=func)])
        if isinstance(func, ast.Name) and func.id in (
                "range", "len", "isinstance", "super", "int", "float", "bool", "str",
                "list", "tuple", "dict", "zip", "enumerate", "getattr", "hasattr"):
            return node
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                func.value.id == "ag__":
            return node
        return ast.Call(func=_ag("converted_call"), args=[func] + node.args,
                        keywords=node.keywords)

    def visit_Lambda(self, node):
        return node


def _range_header(it):
    """Keywords for ``ag__.range_`` when a loop header is ``range(...)`` or
    ``tf.range(...)`` (graph loops for symbolic bounds), else None."""
    if not isinstance(it, ast.Call) or it.keywords:
        return None
    if isinstance(it.func, ast.Name) and it.func.id == "range":
        return []
    if isinstance(it.func, ast.Attribute) and it.func.attr == "range":
        return [ast.keyword(arg="tensor_range", value=it.func)]
    return None


def transformed_source(fn):
    """The converted source of ``fn`` (``dlframe.autograph.to_code``)."""
    fdef = _Transformer().visit(_parse(fn))
    ast.fix_missing_locations(fdef)
    return ast.unparse(fdef)


def convert(fn):
    """Returns the AutoGraph-converted version of Python function ``fn``.

    Functions whose source is unavailable, or marked ``do_not_convert``, are
    returned unchanged.
    """
    if getattr(fn, "__ag_do_not_convert__", False) or \
            getattr(fn, "__ag_converted__", False):
        return fn
    if isinstance(fn, types.MethodType):
        func = convert(fn.__func__)
        return fn if func is fn.__func__ else types.MethodType(func, fn.__self__)
    if not isinstance(fn, types.FunctionType):
        return fn
    if runtime._DLFRAME_DIR in fn.__code__.co_filename.replace("\\", "/"):
        return fn  # dlframe's own code (e.g. built-in layers' call) needs no conversion
    key = fn.__code__
    cached = _CACHE.get(key)
    if cached is not None:
        return _rebind(cached, fn)
    try:
        fdef = _Transformer().visit(_parse(fn))
    except (OSError, TypeError, SyntaxError, StopIteration, IndentationError):
        _CACHE[key] = None
        return fn
    freevars = list(fn.__code__.co_freevars)
    # compiled under another name: the function's own name inside its body must stay
    # the global (or outer-scope) one, for recursion, not the factory's local
    name, fdef.name = fdef.name, "ag__converted_fn"
    factory = _fn("ag__factory", ["ag__"] + freevars, [fdef, ast.Return(value=_load(
        fdef.name))])
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    filename = fn.__code__.co_filename or "<autograph>"
    code = compile(module, filename=f"{filename} (autograph)", mode="exec")
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn_code = next(c for c in factory_code.co_consts if isinstance(c, types.CodeType)
                   and c.co_name == fdef.name).replace(co_name=name, co_qualname=name)
    _CACHE[key] = fn_code
    return _rebind(fn_code, fn)


def _rebind(fn_code, fn):
    if fn_code is None:
        return fn
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    closure = []
    for name in fn_code.co_freevars:
        if name == "ag__":
            closure.append(types.CellType(runtime))
        elif name in cells:
            closure.append(cells[name])
        else:
            closure.append(types.CellType())
    new = types.FunctionType(fn_code, fn.__globals__, fn.__name__, fn.__defaults__,
                             tuple(closure))
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__dict__.update(fn.__dict__)
    new.__ag_converted__ = True
    new.__wrapped__ = fn
    return new
