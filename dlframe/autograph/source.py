"""The syntax tree AutoGraph converts: a function's ``def`` node from its source
(decorators dropped, line numbers those of its file), or for a lambda an equivalent
``def`` built from the lambda found in its file.
"""

import ast
import inspect
import textwrap

_LAMBDA_NAME = "ag__lambda"


def _lambda_def(fn):
    """A ``def`` equivalent to the lambda ``fn``, found in its file's syntax tree by
    line, argument names and (when several share a line) the body's column."""
    code = fn.__code__
    lines, _ = inspect.findsource(code)
    tree = ast.parse("".join(lines))
    total = code.co_argcount + code.co_kwonlyargcount + \
        bool(code.co_flags & inspect.CO_VARARGS) + \
        bool(code.co_flags & inspect.CO_VARKEYWORDS)
    names = list(code.co_varnames[:total])

    def arg_names(a):
        out = [x.arg for x in a.posonlyargs + a.args]
        out += [a.vararg.arg] if a.vararg else []
        out += [x.arg for x in a.kwonlyargs]
        return out + ([a.kwarg.arg] if a.kwarg else [])
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)
             and n.lineno == code.co_firstlineno and sorted(arg_names(n.args)) ==
             sorted(names)]
    if len(found) > 1:
        cols = {c for _, _, c, _ in code.co_positions() if c is not None}
        found = [n for n in found if n.body.col_offset in cols]
    if len(found) != 1:
        raise SyntaxError("the lambda's source is ambiguous")
    fdef = ast.parse(f"def {_LAMBDA_NAME}():\n    return None").body[0]
    fdef.args = found[0].args
    fdef.body = [ast.Return(value=found[0].body)]
    ast.copy_location(fdef, found[0])
    return fdef


def _parse(fn):
    if fn.__name__ == "<lambda>":
        return _lambda_def(fn)
    # the code object's source, never a decorated function's __wrapped__ source
    source = textwrap.dedent(inspect.getsource(fn.__code__))
    tree = ast.parse(source)
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - 1)  # errors name file lines
    fdef = next(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                             ast.AsyncFunctionDef))
                and n.name == fn.__name__)
    fdef.decorator_list = []
    return fdef
