"""The object graph of a checkpoint: which Variables an object holds, under which
paths (see ``checkpoint`` for the naming rules)."""

from dlframe.core.variable import Variable


def _is_checkpoint(obj):
    return getattr(type(obj), "_dlframe_checkpoint", False)


def _is_variable(obj):
    return isinstance(obj, Variable)


def _is_optimizer(obj):
    return hasattr(obj, "apply_gradients") and hasattr(obj, "variables")


def _is_layer(obj):
    return hasattr(obj, "_direct_children") and hasattr(obj, "_trainable_weights")


def _has_state(obj):
    if isinstance(obj, Variable) or _is_checkpoint(obj):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_has_state(v) for v in obj)
    if isinstance(obj, dict):
        return any(_has_state(v) for v in obj.values())
    return (_is_layer(obj) or _is_optimizer(obj)
            or hasattr(type(obj), "variables") or hasattr(type(obj), "weights"))


def _short_name(var):
    name = var.name.split(":")[0]
    return name.rsplit("/", 1)[-1]


def _fallback(obj):
    """Positional edges for Variables an object lists in ``.variables``/``.weights``."""
    if isinstance(obj, (list, tuple, dict)) or _is_checkpoint(obj) \
            or _is_optimizer(obj) or _is_layer(obj):
        return []
    for attr in ("variables", "weights"):
        try:
            listed = getattr(obj, attr)
        except (AttributeError, ValueError, RuntimeError):  # not readable yet
            continue
        if isinstance(listed, (list, tuple)):
            return [(f"{attr}/{i}", v) for i, v in enumerate(listed) if _is_variable(v)]
    return []


def _children(obj):
    """(edge name, child) pairs of one node of the object graph, in a stable order."""
    if _is_checkpoint(obj):
        return list(obj._objects.items())
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj) if _has_state(v)]
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items() if _has_state(v)]
    if _is_optimizer(obj):
        return [(f"variables/{i}", v) for i, v in enumerate(obj.variables)]
    out = []
    if _is_layer(obj):
        used = set()
        for var in list(obj._trainable_weights) + list(obj._non_trainable_weights):
            name = _short_name(var)
            if name in used:
                name = f"{name}_{len(used)}"
            used.add(name)
            out.append((name, var))
        for key, value in vars(obj).items():
            if _is_variable(value) and key not in used:
                out.append((key.lstrip("_") or key, value))
        k = 0
        for child in obj._direct_children():
            if child.weights:
                out.append((f"layer_with_weights-{k}", child))
                k += 1
        return out
    for key, value in getattr(obj, "__dict__", {}).items():
        if not key.startswith("__") and _has_state(value):
            out.append((key, value))
    return out


def _walk(root):
    """{path: Variable} and [(path, optimizer)] reachable from ``root`` (BFS)."""
    variables, optimizers, fallbacks = {}, [], []
    seen_vars, seen_objs = set(), {id(root)}
    queue = [("", root)]
    while queue:
        nxt = []
        for path, obj in queue:
            if _is_optimizer(obj) and path:
                optimizers.append((path, obj))
            fallbacks.extend((path, edge, v) for edge, v in _fallback(obj))
            for edge, child in _children(obj):
                cpath = f"{path}/{edge}" if path else edge
                if _is_variable(child):
                    if id(child) not in seen_vars:
                        seen_vars.add(id(child))
                        variables[cpath] = child
                elif id(child) not in seen_objs:
                    seen_objs.add(id(child))
                    nxt.append((cpath, child))
        queue = nxt
    # Variables only an object's ``.variables`` lists come last, so a structured path
    # found anywhere in the graph wins over a positional one.
    for path, edge, var in fallbacks:
        if id(var) not in seen_vars:
            seen_vars.add(id(var))
            variables[f"{path}/{edge}" if path else edge] = var
    return variables, optimizers
