"""AutoGraph's source transformation: tensor-dependent Python control flow -> graph ops.

Converted forms: ``if``/``else`` (incl. branches that ``return``, and an early
``if ...: return`` followed by the rest of the function), ``while``, ``for`` over
``range``/``tf.range`` with tensor bounds and over tensors, ``break``/``continue``
inside those loops (lowered to flags that guard the rest of the body),
``and``/``or``/``not``, ``print`` and calls to user functions (converted recursively
at run time). Variables first assigned inside a loop body are per-iteration
temporaries, not loop state. Loops containing ``return`` stay Python loops (a
symbolic test then raises a clear error naming the line).
"""

import ast
import inspect
import textwrap
import types

from dlframe.autograph import runtime

_CACHE = {}


class _Names(ast.NodeVisitor):
    """Names stored by a statement list, ignoring nested scopes."""

    def __init__(self):
        self.names = []

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store) and node.id not in self.names:
            self.names.append(node.id)

    def visit_FunctionDef(self, node):
        if node.name not in self.names:
            self.names.append(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        if node.name not in self.names:
            self.names.append(node.name)

    def visit_Lambda(self, node):
        pass

    def visit_ListComp(self, node):
        pass

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp


def _assigned(stmts):
    v = _Names()
    for s in stmts:
        v.visit(s)
    return [n for n in v.names if not n.startswith("ag__")]


class _Finder(ast.NodeVisitor):
    def __init__(self, kinds):
        self.kinds = kinds
        self.found = False

    def generic_visit(self, node):
        if isinstance(node, self.kinds):
            self.found = True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                             ast.ClassDef)):
            return
        super().generic_visit(node)


def _contains(stmts, kinds, skip_loops=False):
    f = _Finder(kinds)
    for s in stmts:
        if skip_loops and isinstance(s, (ast.For, ast.While)):
            continue
        f.visit(s)
    return f.found


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


def _fn(name, params, body):
    return ast.FunctionDef(
        name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params],
                                      kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body or [ast.Pass()], decorator_list=[], returns=None, type_params=[])


class _Transformer(ast.NodeTransformer):
    def __init__(self):
        self.count = 0

    def _next(self, kind):
        self.count += 1
        return f"ag__{kind}_{self.count}"

    # -- break / continue lowering ----------------------------------------------
    def _lower_jumps(self, body, brk, cont):
        """Rewrites ``break``/``continue`` of this loop into flag assignments and guards
        the statements after a possible jump with ``if not (brk or cont):``."""
        out = []
        for i, stmt in enumerate(body):
            jumps = _contains([stmt], (ast.Break, ast.Continue), skip_loops=True)
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
            return ast.Assign(targets=[ast.Name(id=brk, ctx=ast.Store())],
                              value=ast.Constant(True))
        if isinstance(stmt, ast.Continue):
            return ast.Assign(targets=[ast.Name(id=cont, ctx=ast.Store())],
                              value=ast.Constant(True))
        if isinstance(stmt, (ast.For, ast.While, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            return stmt  # their jumps belong to them
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block:
                setattr(stmt, field, self._lower_jumps(block, brk, cont))
        return stmt

    def _loop_with_jumps(self, node):
        """Flag names and the lowered body when the loop uses break/continue."""
        if not _contains(node.body, (ast.Break, ast.Continue), skip_loops=True):
            return None, None, node.body
        # not "ag__"-prefixed: _assigned() must see the flags as loop state
        self.count += 1
        brk, cont = f"_ag_break_{self.count}", f"_ag_continue_{self.count}"
        reset = ast.Assign(targets=[ast.Name(id=cont, ctx=ast.Store())],
                           value=ast.Constant(False))
        return brk, cont, [reset] + self._lower_jumps(node.body, brk, cont)

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

    def visit_FunctionDef(self, node):
        node.body = self._block(node.body)
        return node

    def visit_If(self, node):
        node.test = self.visit(node.test)
        node.body = self._block(node.body)
        node.orelse = self._block(node.orelse)
        both_return = (node.body and node.orelse and isinstance(node.body[-1], ast.Return)
                       and isinstance(node.orelse[-1], ast.Return)
                       and not _contains(node.body[:-1] + node.orelse[:-1], ast.Return))
        if both_return:
            names = _assigned(node.body + node.orelse)
            t, f = self._next("if_true"), self._next("if_false")
            call = ast.Call(func=_ag("if_exp"), args=[node.test, _load(t), _load(f),
                                                      _init(names)], keywords=[])
            return [_fn(t, names, node.body), _fn(f, names, node.orelse),
                    ast.Return(value=call)]
        if _contains(node.body + node.orelse, (ast.Return, ast.Break, ast.Continue,
                                               ast.Yield, ast.YieldFrom)):
            return node
        names = _assigned(node.body + node.orelse)
        t, f = self._next("if_true"), self._next("if_false")
        ret = ast.Return(value=_tuple(names, ast.Load))
        call = ast.Call(func=_ag("if_stmt"), args=[node.test, _load(t), _load(f),
                                                   _init(names)], keywords=[])
        assign = (ast.Assign(targets=[_tuple(names, ast.Store)], value=call)
                  if names else ast.Expr(value=call))
        return [_fn(t, names, node.body + [ret]), _fn(f, names, (node.orelse or []) + [ret]),
                assign]

    def visit_While(self, node):
        prelude = []
        if not node.orelse and not _contains(node.body, (ast.Return, ast.Yield,
                                                         ast.YieldFrom)):
            brk, cont, body = self._loop_with_jumps(node)
            if brk is not None:
                node.body = body
                node.test = ast.BoolOp(op=ast.And(), values=[
                    ast.UnaryOp(op=ast.Not(), operand=_load(brk)), node.test])
                prelude = [ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())],
                                      value=ast.Constant(False)) for n in (brk, cont)]
        node.test = self.visit(node.test)
        node.body = self._block(node.body)
        node.orelse = self._block(node.orelse)
        if node.orelse or _contains(node.body, (ast.Return, ast.Break, ast.Continue,
                                                ast.Yield, ast.YieldFrom)):
            return prelude + [node] if prelude else node
        names = _assigned(node.body)
        c, b = self._next("while_cond"), self._next("while_body")
        ret = ast.Return(value=_tuple(names, ast.Load))
        call = ast.Call(func=_ag("while_stmt"), args=[_load(c), _load(b), _init(names)],
                        keywords=[])
        assign = (ast.Assign(targets=[_tuple(names, ast.Store)], value=call)
                  if names else ast.Expr(value=call))
        return prelude + [_fn(c, names, [ast.Return(value=node.test)]),
                          _fn(b, names, node.body + [ret]), assign]

    def visit_For(self, node):
        prelude, brk = [], None
        if not node.orelse and not _contains(node.body, (ast.Return, ast.Yield,
                                                         ast.YieldFrom)):
            brk, cont, body = self._loop_with_jumps(node)
            if brk is not None:
                node.body = body
                prelude = [ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())],
                                      value=ast.Constant(False)) for n in (brk, cont)]
        header = _range_header(node.iter)
        if header is not None:
            node.iter = ast.Call(func=_ag("range_"),
                                 args=[self.visit(a) for a in node.iter.args],
                                 keywords=header)
        else:
            node.iter = self.visit(node.iter)
        node.body = self._block(node.body)
        node.orelse = self._block(node.orelse)
        if node.orelse or _contains(node.body, (ast.Return, ast.Break, ast.Continue,
                                                ast.Yield, ast.YieldFrom)):
            return prelude + [node] if prelude else node
        target_names = _assigned([ast.Assign(targets=[node.target], value=ast.Constant(0))])
        # the target is re-bound from the item inside the body; it is not loop state
        names = [n for n in _assigned(node.body) if n not in target_names]
        b = self._next("for_body")
        item = self._next("item")
        ret = ast.Return(value=_tuple(names, ast.Load))
        body = [ast.Assign(targets=[node.target], value=_load(item))] + node.body + [ret]
        it = node.iter
        stop_at = ast.Constant(names.index(brk) if brk is not None else None)
        call = ast.Call(func=_ag("for_stmt"), args=[it, _load(b), _init(names), stop_at],
                        keywords=[])
        assign = (ast.Assign(targets=[_tuple(names, ast.Store)], value=call)
                  if names else ast.Expr(value=call))
        return prelude + [_fn(b, [item] + names, body), assign]

    # -- expressions -----------------------------------------------------------
    def visit_BoolOp(self, node):
        self.generic_visit(node)
        fn = "and_" if isinstance(node.op, ast.And) else "or_"
        thunks = [ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[],
                                                kw_defaults=[], defaults=[]), body=v)
                  for v in node.values]
        return ast.Call(func=_ag(fn), args=thunks, keywords=[])

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return ast.Call(func=_ag("not_"), args=[node.operand], keywords=[])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id == "print":
            return ast.Call(func=_ag("print_"), args=node.args, keywords=node.keywords)
        if isinstance(func, ast.Name) and func.id in ("range", "len", "isinstance", "super",
                                                      "int", "float", "bool", "str",
                                                      "list", "tuple", "dict", "zip",
                                                      "enumerate", "getattr", "hasattr"):
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


def _parse(fn):
    # the code object's source, never a decorated function's __wrapped__ source
    source = textwrap.dedent(inspect.getsource(fn.__code__))
    tree = ast.parse(source)
    fdef = next(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                             ast.AsyncFunctionDef))
                and n.name == fn.__name__)
    fdef.decorator_list = []
    return fdef


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
    if getattr(fn, "__ag_do_not_convert__", False) or getattr(fn, "__ag_converted__", False):
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
    factory = _fn("ag__factory", ["ag__"] + freevars, [fdef, ast.Return(value=_load(
        fdef.name))])
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    filename = fn.__code__.co_filename or "<autograph>"
    code = compile(module, filename=f"{filename} (autograph)", mode="exec")
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn_code = next(c for c in factory_code.co_consts if isinstance(c, types.CodeType)
                   and c.co_name == fn.__name__)
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
