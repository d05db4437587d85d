"""Optimization passes over a traced graph's node list (DESIGN.md §5).

Each pass is a function of the node list that ``trace.Graph`` runs when its
``config.graph_option`` is on: dead-code removal, constant folding, common
subexpression elimination, liveness (buffers freed after their last reader),
on GPU fusion of elementwise chains into one kernel and, on CPU, TF-remapper-style
rewrites of convolution chains into fused kernels (``remap_cpu``).
"""

from dlframe import config
from dlframe.core.primitive import REGISTRY

# Primitives whose forward is one elementwise expression of its inputs (same-shape
# or broadcast, no attributes): chains of them fuse into one kernel on GPU.
ELEMENTWISE = {"AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Neg", "Exp",
               "Log", "Tanh", "Sqrt", "Square", "Rsqrt", "Abs", "Sign", "Relu",
               "SquaredDifference", "Expm1", "Log1p", "Reciprocal", "Sin", "Cos"}


class _Fused:
    """Forward of a fused elementwise chain; falls back to the plain chain on error."""

    def __init__(self, steps, n_ext, device, name="Fused"):
        self.steps = steps      # (forward, [('e', i) | ('s', k)], attrs)
        self.name = name        # the member ops, 'Exp+Mul' (profiles, numerics errors)
        self.n_ext = n_ext
        self.kernel = None
        self.failed = False
        self.device = device

    def plain(self, d, *ext):
        vals = []
        for forward, refs, attrs in self.steps:
            args = [ext[i] if kind == "e" else vals[i] for kind, i in refs]
            vals.append(forward(d, *args, **attrs))
        return vals[-1]

    def __call__(self, d, *ext):
        if not self.failed:
            try:
                if self.kernel is None:
                    self.kernel = d.fuse(lambda *a: self.plain(d, *a))
                return self.kernel(*ext)
            except Exception:
                self.failed = True
        return self.plain(d, *ext)


def fuse_elementwise(program, nodes, outputs):
    """Merges single-consumer chains of elementwise nodes into one fused node."""
    readers = {}
    for i, node in enumerate(nodes):
        for s in node[1]:
            readers.setdefault(s, []).append(i)
    out = []
    i = 0
    while i < len(nodes):
        chain = [i]
        while True:
            last = chain[-1]
            prim = nodes[last][0]
            if prim.name not in ELEMENTWISE or nodes[last][3] or prim.n_out != 1:
                break
            slot = nodes[last][2][0]
            nxt = last + 1
            if (slot in outputs or readers.get(slot) != [nxt] or nxt >= len(nodes)
                    or nodes[nxt][0].name not in ELEMENTWISE or nodes[nxt][3]
                    or nodes[nxt][4] is not nodes[last][4]):
                break
            chain.append(nxt)
        if len(chain) < 2 or nodes[chain[0]][0].name not in ELEMENTWISE:
            out.append(program[i])
            i += 1
            continue
        ext, steps, local = [], [], {}
        for k, idx in enumerate(chain):
            prim, ins, outs_s, attrs, dev = nodes[idx]
            refs = []
            for s in ins:
                if s in local:
                    refs.append(("s", local[s]))
                else:
                    if s not in ext:
                        ext.append(s)
                    refs.append(("e", ext.index(s)))
            steps.append((prim.forward, refs, attrs))
            local[outs_s[0]] = k
        last = nodes[chain[-1]]
        frees = tuple(s for idx in chain for s in program[idx][7]
                      if s not in {nodes[j][2][0] for j in chain[:-1]})
        name = "+".join(nodes[idx][0].name for idx in chain)
        out.append((_Fused(steps, len(ext), last[4], name), last[4], tuple(ext),
                    tuple(last[2]), {}, True, False, frees))
        i = chain[-1] + 1
    return out


def liveness(nodes, keep):
    """Per node, the slots whose last reader it is (freed right after it runs).

    Dropping intermediates as soon as they are dead keeps the working set as small
    as eager execution's: holding every temporary of a step until the end made the
    compiled MLP step 2x slower than eager (fresh pages on every large allocation).
    """
    if not config.graph_option("memory_optimization"):
        return [()] * len(nodes)
    last = {}
    for i, node in enumerate(nodes):
        for s in node[1]:
            last[s] = i
        for s in node[2]:
            last.setdefault(s, i)  # outputs never read are freed at once
    frees = [[] for _ in nodes]
    for s, i in last.items():
        if s not in keep:
            frees[i].append(s)
    return [tuple(f) for f in frees]


def dead_code(nodes, outputs):
    """Drops nodes whose outputs are unused, keeping side-effect nodes."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        prim, ins, outs = node[0], node[1], node[2]
        if prim.effects or any(s in needed for s in outs):
            kept.append(node)
            needed.update(ins)
    kept.reverse()
    return kept


def fold_constants(nodes, constants, traced):
    """Replaces pure nodes whose inputs are all constants by their traced values."""
    kept = []
    for node in nodes:
        prim, ins, outs = node[0], node[1], node[2]
        if not prim.stateful and all(s in constants for s in ins):
            for s in outs:
                constants[s] = traced[s]
            continue
        kept.append(node)
    return kept


def _attr_key(attrs):
    try:
        key = tuple(sorted(attrs.items()))
        hash(key)
        return key
    except TypeError:
        return repr(sorted(attrs.items(), key=lambda kv: kv[0]))


def cse(nodes):
    """Merges pure nodes with the same primitive, inputs and attributes."""
    seen = {}
    remap = {}
    kept = []
    written = {}  # slot -> how many effect nodes (variable writes) took it so far
    for node in nodes:
        prim, ins, outs, attrs = node[0], node[1], node[2], node[3]
        ins = [remap.get(s, s) for s in ins]
        node[1] = ins
        if prim.stateful:
            if prim.effects:  # a read after a write of the same buffer is another value
                for s in ins:
                    written[s] = written.get(s, 0) + 1
            kept.append(node)
            continue
        key = (prim.name, tuple((s, written.get(s, 0)) for s in ins), _attr_key(attrs),
               id(node[4]))
        prev = seen.get(key)
        if prev is not None:
            for a, b in zip(outs, prev[2]):
                remap[a] = b
            continue
        seen[key] = node
        kept.append(node)
    return kept, remap


# ---------------------------------------------------------------- CPU remapping
_CONVS = ("Conv2D", "Conv3D")
_FUSABLE_DTYPES = ("float32", "float64")


def _on_cpu(*nodes):
    dev = nodes[0][4]
    return getattr(dev, "kind", None) == "cpu" and all(n[4] is dev for n in nodes)


def _dtype_name(traced, slot):
    value = traced.get(slot)
    return getattr(getattr(value, "dtype", None), "name", None)


def remap_cpu(nodes, outputs, traced):
    """Rewrites CPU chains into the fused kernels of ``ops/cpu_fusions`` (the
    ``remapping`` graph option, as TF's remapper):

    * Conv2D/Conv3D -> AddV2 of a bias (per channel in Keras) [-> Relu] becomes one
      ``_FusedConv2D`` node that adds the bias and applies the ReLU in place;
    * ReluGrad(MaxPoolGrad(r, pooled, dy), r) of a ReLU output ``r`` becomes one
      ``_ReluMaxPoolGrad`` node (the mask applied to the pooled gradient).

    Only float32/float64 chains whose intermediates have no other reader and are
    no graph output are rewritten; values are those of the chain replaced.

    Args:
      nodes: ``[prim, in_slots, out_slots, attrs, device]`` per step, in order.
      outputs: the graph's output slots.
      traced: slot -> array seen while tracing, for node outputs, variables and
        constants (shapes and dtypes).

    Returns:
      The new node list.
    """
    fused_conv = REGISTRY.get("_FusedConv2D")
    fused_pool = REGISTRY.get("_ReluMaxPoolGrad")
    if fused_conv is None or fused_pool is None:
        return nodes
    readers, producer = {}, {}
    for i, node in enumerate(nodes):
        for s in node[1]:
            readers.setdefault(s, []).append(i)
        for s in node[2]:
            producer[s] = i
    outputs = set(outputs)

    def sole_reader(slot):
        """Index of the node reading ``slot`` when it is the only one (and ``slot``
        is no output), else None."""
        r = readers.get(slot)
        return None if slot in outputs or r is None or len(r) != 1 else r[0]

    replace, drop = {}, set()
    for i, node in enumerate(nodes):
        if node[0].name in _CONVS and i not in drop:
            _remap_conv(nodes, i, sole_reader, producer, traced, fused_conv, replace,
                        drop)
    relu_outs = {n[2][0] for n in nodes if n[0].name == "Relu"} | {
        n[2][0] for n in replace.values() if n[3].get("relu")}
    for i, node in enumerate(nodes):
        if node[0].name != "MaxPoolGrad" or i in drop:
            continue
        x = node[1][0]
        j = sole_reader(node[2][0])
        grad = None if j is None else nodes[j]
        if (grad is None or grad[0].name != "ReluGrad" or grad[1] != [node[2][0], x]
                or x not in relu_outs or not _on_cpu(node, grad)
                or _dtype_name(traced, grad[2][0]) not in _FUSABLE_DTYPES):
            continue
        replace[i] = [fused_pool, list(node[1]), list(grad[2]), dict(node[3]), node[4]]
        drop.add(j)
    if not replace:
        return nodes
    return [replace.get(i, node) for i, node in enumerate(nodes) if i not in drop]


def _remap_conv(nodes, i, sole_reader, producer, traced, fused_conv, replace, drop):
    """Conv -> bias add [-> Relu] into one fused node at the convolution's place."""
    conv = nodes[i]
    y = conv[2][0]
    j = sole_reader(y)
    add = None if j is None else nodes[j]
    if add is None or add[0].name != "AddV2" or add[1].count(y) != 1:
        return
    bias = add[1][1 - add[1].index(y)]
    # the sum keeps the convolution's shape and dtype: the bias (of any shape that
    # broadcasts; a function input's is not recorded) is added into it in place
    out, total = traced.get(y), traced.get(add[2][0])
    if (getattr(out, "dtype", None) is None
            or getattr(total, "shape", None) != out.shape or total.dtype != out.dtype
            or out.dtype.name not in _FUSABLE_DTYPES or not _on_cpu(conv, add)):
        return
    if producer.get(bias, -1) > i:
        return  # computed after the convolution: the fused node runs in its place
    last, end = add, j
    k = sole_reader(add[2][0])
    if k is not None and nodes[k][0].name == "Relu" and _on_cpu(conv, nodes[k]):
        last, end = nodes[k], k
    if _written_between(nodes, bias, producer, i, end):
        return  # the bias read must stay after that variable write
    drop.update({j, end})
    attrs = dict(conv[3], relu=end != j)
    ins = [conv[1][0], conv[1][1], bias]
    replace[i] = [fused_conv, ins, list(last[2]), attrs, conv[4]]
    wgrads = _filter_grads_of(nodes, i, producer, traced)
    if wgrads:
        # the convolution's own output slot is free now: it carries the patches
        replace[i] = [REGISTRY["_FusedConv2DKeepPatches"], ins, [last[2][0], y], attrs,
                      conv[4]]
        for m in wgrads:
            replace[m] = [REGISTRY["_Conv2DBackpropFilterFromPatches"],
                          [y, nodes[m][1][1]], list(nodes[m][2]),
                          {"filter_shape": nodes[m][3]["filter_shape"]}, conv[4]]


def _written_between(nodes, slot, producer, first, last):
    """Whether a node strictly between ``first`` and ``last`` may write ``slot``
    (a variable's buffer: effect nodes take the variables they write as inputs;
    node outputs are never written)."""
    return slot not in producer and any(
        nodes[q][0].effects and slot in nodes[q][1] for q in range(first + 1, last))


# Largest patch matrix kept alive from a convolution to its filter gradient
KEEP_PATCHES_MAX_BYTES = 32 << 20
_FILTER_GRADS = {"Conv2D": "Conv2DBackpropFilter", "Conv3D": "Conv3DBackpropFilterV2"}


def _filter_grads_of(nodes, i, producer, traced):
    """Filter-gradient nodes taking the input of convolution ``i`` with its
    geometry, when its patch matrix is small enough to keep until then."""
    conv = nodes[i]
    x, geo = conv[1][0], conv[3]
    name = _FILTER_GRADS[conv[0].name]
    found = []
    for m in range(i + 1, len(nodes)):
        node = nodes[m]
        if (node[0].name != name or node[1][0] != x or node[4] is not conv[4]
                or any(node[3].get(k) != geo[k] for k in geo)):
            continue
        if _written_between(nodes, x, producer, i, m):
            continue
        out, ks = traced.get(conv[2][0]), node[3]["filter_shape"]
        # the same input and geometry but another filter size has other patches
        w, xv = traced.get(conv[1][1]), traced.get(x)
        if (getattr(w, "shape", None) is None or getattr(xv, "shape", None) is None
                or tuple(w.shape[:-1]) != tuple(ks[:-1])):
            continue
        # (N*P, K*C) with all C input channels (a grouped filter has C/G of them)
        patches = (out.size // ks[-1] * _prod(ks[:-2]) * xv.shape[-1]
                   * out.dtype.itemsize)
        if patches <= KEEP_PATCHES_MAX_BYTES:
            found.append(m)
    return found


def _prod(seq):
    out = 1
    for v in seq:
        out *= v
    return out
