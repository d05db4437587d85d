"""Optimization passes over a traced graph's node list (DESIGN.md §5).

Each pass is a function of the node list that ``trace.Graph`` runs when its
``config.graph_option`` is on: dead-code removal, constant folding, common
subexpression elimination, liveness (buffers freed after their last reader) and,
on GPU, fusion of elementwise chains into one kernel.
"""

from dlframe import config

# Primitives whose forward is one elementwise expression of its inputs (same-shape
# or broadcast, no attributes): chains of them fuse into one kernel on GPU.
ELEMENTWISE = {"AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Neg", "Exp",
               "Log", "Tanh", "Sqrt", "Square", "Rsqrt", "Abs", "Sign", "Relu",
               "SquaredDifference", "Expm1", "Log1p", "Reciprocal", "Sin", "Cos"}


class _Fused:
    """Forward of a fused elementwise chain; falls back to the plain chain on error."""

    def __init__(self, steps, n_ext, device):
        self.steps = steps      # (forward, [('e', i) | ('s', k)], attrs)
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
        out.append((_Fused(steps, len(ext), last[4]), last[4], tuple(ext),
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
