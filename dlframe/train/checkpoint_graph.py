"""The object graph of a checkpoint: which Variables an object holds, under which
paths (see ``checkpoint`` for the naming rules).

An object reachable along several edges (a sub-layer held in an attribute *and*
listed as ``layer_with_weights-<k>``) is stored under the first path found, breadth
first; the other paths are its aliases, and ``restore`` accepts a saved value under
any of them (as TensorFlow matches any edge of its object graph)."""

from dlframe.core.module import Module
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
            or hasattr(type(obj), "variables") or hasattr(type(obj), "weights")
            or hasattr(type(obj), "_checkpoint_children"))


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


def _attribute_layers(obj):
    """(attribute, value) for attributes holding a layer, or a non-empty list, tuple
    or dict of layers (built or not, so a later build can be restored into)."""
    skip = getattr(obj, "_NOT_TRACKED", frozenset())
    out = []
    for key, value in vars(obj).items():
        if key.startswith("__") or key in skip:
            continue
        items = value.values() if isinstance(value, dict) else value
        if _is_layer(value) or (isinstance(value, (list, tuple, dict)) and value
                                and all(_is_layer(v) for v in items)):
            out.append((key, value))
    return out


def _numbered_layers(obj, cache=None):
    """``_numbered_layers_uncached``, remembered in ``cache`` ({id: result}) for
    one walk of the graph (a deep model's layers are counted once, not per use)."""
    if cache is None:
        return _numbered_layers_uncached(obj)
    if id(obj) not in cache:
        cache[id(obj)] = _numbered_layers_uncached(obj)
    return cache[id(obj)]


def _numbered_layers_uncached(obj):
    """A layer's ``layer_with_weights-<k>`` edges, split into (edges, alias edges).

    Keras 2 names a Functional/Sequential model's sub-layers by position and any
    other layer's after the attribute holding them (``'net/l1/kernel'``); for those
    the positional name is only an alias, used by ``restore``."""
    numbered, k = [], 0
    for child in obj._direct_children():
        if child.weights:
            numbered.append((f"layer_with_weights-{k}", child))
            k += 1
    if "_graph_layers" in vars(obj) or "_seq_layers" in vars(obj):
        return numbered, []
    named = set()
    for _, value in _attribute_layers(obj):
        items = value.values() if isinstance(value, dict) else value
        named.update(map(id, items) if isinstance(value, (list, tuple, dict))
                     else [id(value)])
    return ([e for e in numbered if id(e[1]) not in named],
            [e for e in numbered if id(e[1]) in named])


def _children(obj, cache=None):
    """(edge name, child) pairs of one node of the object graph, in a stable order
    (``cache`` as ``_numbered_layers``'s)."""
    if _is_checkpoint(obj):
        return list(obj._objects.items())
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj) if _has_state(v)]
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items() if _has_state(v)]
    if _is_optimizer(obj):
        return [(f"variables/{i}", v) for i, v in enumerate(obj.variables)]
    if hasattr(obj, "_checkpoint_children"):   # e.g. an iterator's ITERATOR_STATE
        return list(obj._checkpoint_children())
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
        # a model tracks the optimizers it holds, as Keras does: Checkpoint(model=m)
        # holds a compiled model's optimizer state too (``model/optimizer/...``),
        # and a GAN's ``d_optimizer``/``g_optimizer``
        out += [(key, value) for key, value in vars(obj).items()
                if not key.startswith("__") and _is_optimizer(value)]
        return out + _numbered_layers(obj, cache)[0] + _attribute_layers(obj)
    for key, value in getattr(obj, "__dict__", {}).items():
        if not key.startswith("__") and _has_state(value):
            out.append((key, value))
    return out


class Graph:
    """One walk of the object graph from a root.

    Attributes:
      variables: ``{path: Variable}``, each Variable under its first (primary) path.
      optimizers: ``[(path, optimizer)]`` reached.
      layers: every Keras layer reached (built or not).
      layer_items: ``[(path, layer)]`` of those layers.
      modules: every ``tf.Module`` reached.
    """

    _MAX_ALIASES = 64

    def __init__(self, variables, optimizers, layers, modules, object_aliases,
                 var_aliases):
        self.variables = variables
        self.optimizers = optimizers
        self.layer_items = layers
        self.layers = [layer for _, layer in layers]
        self.layer_paths = {path for path, _ in layers}
        self.modules = modules
        # (primary path, alias path) of objects reached along several edges;
        # ``paths_of`` rewrites a path through each ancestor's aliases in turn
        self._object_aliases = sorted(object_aliases, key=lambda pa: -len(pa[0]))
        self._aliases_by_primary = {}
        for primary, alias in self._object_aliases:
            if alias != primary:
                self._aliases_by_primary.setdefault(primary, []).append(alias)
        self._var_aliases = var_aliases

    def private_aliases(self):
        """{alias: path} naming layer weights Keras 3 tracks by a private attribute
        (Dense's ``_kernel``, Embedding's ``_embeddings``) that way too."""
        out = {}
        for path in self.variables:
            head, _, last = path.rpartition("/")
            if last in _KERAS3_PRIVATE and head in self.layer_paths:
                out[f"{head}/_{last}"] = path
        return out

    def object_paths_of(self, path):
        """The primary path of an object and the other edges reaching it."""
        return [path] + [alias for primary, alias in self._object_aliases
                         if primary == path and alias != path]

    def paths_of(self, path, var):
        """Every path naming ``var`` (whose primary path is ``path``), primary first."""
        found = [path, *self._var_aliases.get(id(var), [])]
        seen = set(found)
        i = 0
        while i < len(found) and len(found) < self._MAX_ALIASES:
            # each ancestor object of ``found[i]`` that other edges also reach
            # (looked up per ancestor: a model's hundreds of layers stay linear)
            p = found[i]
            cut = p.find("/")
            while cut != -1 and len(found) < self._MAX_ALIASES:
                for alias in self._aliases_by_primary.get(p[:cut], ()):
                    candidate = alias + p[cut:]
                    if candidate not in seen:
                        seen.add(candidate)
                        found.append(candidate)
                cut = p.find("/", cut + 1)
            i += 1
        # Keras 3 tracks some weights by their private attribute (Dense's ``_kernel``)
        for p in list(found):
            head, _, last = p.rpartition("/")
            if head and not last.startswith("_") and len(found) < self._MAX_ALIASES:
                candidate = f"{head}/_{last}"
                if candidate not in seen:
                    seen.add(candidate)
                    found.append(candidate)
        return found


# weights Keras 3 layers hold in a private attribute (its checkpoint edge name)
_KERAS3_PRIVATE = frozenset({"kernel", "embeddings"})

# Keras 3 creates these optimizers' slots in several passes over the model's
# variables (one list after another; attributes in one pass interleave per
# variable), so their ``_variables/<i>`` order differs from ``variables``'.
# TF 2.21's order, e.g. RMSprop: [iteration, learning_rate, a_velocity, b_velocity,
# a_momentum, b_momentum, ...]; Nadam's u_product comes last.
_KERAS3_SLOT_PASSES = {
    "RMSprop": (("_velocities",), ("_momentums",), ("_average_gradients",)),
    "Adam": (("_momentums", "_velocities"), ("_velocity_hats",)),
    "Nadam": (("_momentums", "_velocities"), ("_u_product",)),
}


def _slot_passes(opt):
    return next((_KERAS3_SLOT_PASSES[c.__name__] for c in type(opt).__mro__
                 if c.__name__ in _KERAS3_SLOT_PASSES), ())


def _slot_attributes(opt):
    """The attributes holding ``opt``'s slots, as Keras 3 names its edges."""
    return [attr for attrs in _slot_passes(opt) for attr in attrs]


def _keras3_order(opt):
    """``opt.variables`` in the order Keras 3 lists them (``_variables``)."""
    variables = list(opt.variables)
    passes = _slot_passes(opt)
    slots = []
    for attrs in passes:
        lists = [getattr(opt, a, None) for a in attrs]
        lists = [v if isinstance(v, (list, tuple)) else [v] for v in lists]
        slots += [v for group in zip(*lists) for v in group if _is_variable(v)]
    ids = {id(v) for v in slots}
    if len(ids) != len(slots) or not ids <= {id(v) for v in variables}:
        return variables   # not the layout the table describes: keep dlframe's
    return [v for v in variables if id(v) not in ids] + slots


def _keras3_layer_edges(layer):
    """The alias edges Keras 3 (TF 2.16+) writes for a model's layers: a Functional
    model's as ``_operations/<i>`` (input layers counted), a Sequential's as
    ``_functional/_operations/<i + 1>``."""
    own = vars(layer)
    if "_seq_layers" in own:   # checked first: a built Sequential has both
        return [(f"_functional/_operations/{i + 1}", c)
                for i, c in enumerate(own["_seq_layers"])]
    if "_graph_layers" in own:
        return [(f"_operations/{i}", c) for i, c in enumerate(own["_graph_layers"])]
    return []


def _keras3_optimizer_aliases(optimizers, var_aliases):
    """Adds to ``var_aliases`` Keras 3's names of optimizer variables:
    ``_variables/<i>`` (in Keras 3's slot order), ``_iterations``, ``_learning_rate``,
    the slot lists (``_momentums/<j>``), and of the model variables it updates,
    ``_trainable_variables/<i>``."""
    for path, opt in optimizers:
        named = {id(getattr(opt, "_iterations", None)): "_iterations",
                 id(getattr(opt, "_lr_var", None)): "_learning_rate"}
        for i, var in enumerate(_keras3_order(opt)):
            extra = [f"{path}/_variables/{i}"]
            if id(var) in named:
                extra.append(f"{path}/{named[id(var)]}")
            var_aliases.setdefault(id(var), []).extend(extra)
        # the slot lists Keras 3 tracks too (``_momentums/<j>``, ``_u_product``)
        owned = {id(v) for v in opt.variables}
        for attr in _slot_attributes(opt):
            value = getattr(opt, attr, None)
            items = [(f"{attr}/{j}", v) for j, v in enumerate(value)] \
                if isinstance(value, (list, tuple)) else [(attr, value)]
            for edge, var in items:
                if _is_variable(var) and id(var) in owned:
                    var_aliases.setdefault(id(var), []).append(f"{path}/{edge}")
        # the model's variables, which a Keras 3 optimizer tracks as it built them
        for i, var in enumerate(getattr(opt, "_trainable_variables", None) or ()):
            if _is_variable(var):
                var_aliases.setdefault(id(var), []).append(
                    f"{path}/_trainable_variables/{i}")


def walk_graph(root):
    """The Graph of everything reachable from ``root`` (breadth first)."""
    variables, optimizers, fallbacks, layers, modules = {}, [], [], [], []
    var_aliases, object_aliases = {}, []
    seen_vars, object_paths, numbered = set(), {id(root): ""}, {}
    queue = [("", root)]
    while queue:
        nxt = []
        for path, obj in queue:
            if _is_optimizer(obj) and path:
                optimizers.append((path, obj))
            if _is_layer(obj):
                layers.append((path, obj))
            elif isinstance(obj, Module):
                modules.append(obj)
            fallbacks.extend((path, edge, v) for edge, v in _fallback(obj))
            if _is_optimizer(obj) and path:
                # a Keras 3 optimizer holds the model's variables it updates:
                # ``Checkpoint(optimizer=opt)`` stores them too, as TF 2.21 does
                fallbacks.extend(
                    (path, f"_trainable_variables/{i}", v) for i, v in
                    enumerate(getattr(obj, "_trainable_variables", None) or ())
                    if _is_variable(v))
            for edge, child in _children(obj, numbered):
                cpath = f"{path}/{edge}" if path else edge
                if _is_variable(child):
                    if id(child) not in seen_vars:
                        seen_vars.add(id(child))
                        variables[cpath] = child
                    else:
                        var_aliases.setdefault(id(child), []).append(cpath)
                elif id(child) not in object_paths:
                    object_paths[id(child)] = cpath
                    nxt.append((cpath, child))
                else:
                    primary = object_paths[id(child)]
                    if primary and not cpath.startswith(primary + "/"):  # no cycles
                        object_aliases.append((primary, cpath))
        queue = nxt
    for path, layer in layers:   # Keras 2's positional names, Keras 3's edges
        for edge, child in (_numbered_layers(layer, numbered)[1]
                            + _keras3_layer_edges(layer)):
            if object_paths.get(id(child)):
                object_aliases.append((object_paths[id(child)],
                                       f"{path}/{edge}" if path else edge))
    _keras3_optimizer_aliases(optimizers, var_aliases)
    # Variables only an object's ``.variables`` lists come last, so a structured path
    # found anywhere in the graph wins over a positional one.
    for path, edge, var in fallbacks:
        if id(var) not in seen_vars:
            seen_vars.add(id(var))
            variables[f"{path}/{edge}" if path else edge] = var
    return Graph(variables, optimizers, layers, modules, object_aliases, var_aliases)


def _walk(root):
    """{path: Variable} and [(path, optimizer)] reachable from ``root`` (BFS)."""
    graph = walk_graph(root)
    return graph.variables, graph.optimizers
