"""Static facts about Python statements that AutoGraph's converter needs: the names
a statement list assigns, whether it holds a kind of node, and which names are read
around a statement (a conservative liveness analysis)."""

import ast


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


def _contains(stmts, kinds):
    f = _Finder(kinds)
    for s in stmts:
        f.visit(s)
    return f.found


class _Uses(ast.NodeVisitor):
    """Names read anywhere in a tree (nested scopes included), except inside
    ``skip``."""

    def __init__(self, skip):
        self.skip = skip
        self.names = set()

    def visit(self, node):
        if node is not self.skip:
            super().visit(node)

    def visit_Name(self, node):
        # ``del x`` needs x bound too: a loop target deleted after the loop is live
        if isinstance(node.ctx, (ast.Load, ast.Del)):
            self.names.add(node.id)


def _reads(node):
    uses = _Uses(None)
    uses.visit(node)
    return uses.names


def _read_before_set(stmts):
    """Names that ``stmts`` may read before assigning them (their value on entry
    matters). A plain assignment at this level sets a name; assignments nested in
    other statements are not counted as setting it (conservative)."""
    read, done = set(), set()
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            read |= (_reads(stmt.test) | _read_before_set(stmt.body)
                     | _read_before_set(stmt.orelse)) - done
        elif isinstance(stmt, ast.Assign) and all(
                isinstance(t, ast.Name) for t in stmt.targets):
            read |= _reads(stmt.value) - done
            done.update(t.id for t in stmt.targets)
        else:
            read |= _reads(stmt) - done
    return read


def _read_elsewhere(root, node, names, live=()):
    """Those of ``names`` that ``root`` reads outside statement ``node``, or in
    ``live``: the ones a converted ``if``/loop must hand on (a name assigned and read
    only inside it is a temporary there, as TF's liveness analysis finds).
    Conservative: any read elsewhere counts."""
    if root is None:
        return list(names)
    uses = _Uses(node)
    uses.visit(root)
    return [n for n in names if n in uses.names or n in live]
