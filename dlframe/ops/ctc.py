"""Connectionist temporal classification: ``tf.nn.ctc_loss`` and the greedy and beam
search decoders.

The loss is one primitive: the forward runs the alpha/beta recursions in log space
(float64, vectorized over the batch and the extended label) and also returns the
gradient w.r.t. the logits, ``softmax - posterior label occupancy``; the gradient rule
scales that saved gradient by the incoming one (as TF's CTCLoss op does, so the loss
is differentiable once, not twice).
"""

import heapq

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import FailedPreconditionError, InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops._util import t
from dlframe.ops.sparse_tensor import SparseTensor, to_dense

_NEG_INF = -np.inf


def _logsumexp(*terms):
    """Elementwise log(sum(exp(terms))) that keeps all -inf inputs at -inf."""
    stacked = np.stack(terms)
    top = stacked.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(stacked - safe).sum(axis=0)) + safe


def _ctc_host(logits, labels, label_length, logit_length, blank):
    """Loss [B] and d loss / d logits [T, B, K] (time-major float64 host arrays)."""
    n_time, batch, n_class = logits.shape
    shifted = logits - logits.max(axis=2, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    n_ext = 2 * labels.shape[1] + 1
    ext = np.full((batch, n_ext), blank, dtype=np.int64)
    in_label = np.arange(labels.shape[1])[None, :] < label_length[:, None]
    ext[:, 1::2] = np.where(in_label, labels, blank)   # padding may hold any value
    s_idx = np.arange(n_ext)
    valid_s = s_idx[None, :] < (2 * label_length[:, None] + 1)
    # a skip from s-2 is allowed onto a label that differs from the label two back
    skip = np.zeros((batch, n_ext), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    rows = np.arange(batch)[:, None]
    emit = logp[:, rows, ext]                               # [T, B, S]
    emit = np.where(valid_s[None], emit, _NEG_INF)

    def shift(a, k):
        """a[:, s - k] at s (-inf where that falls outside)."""
        out = np.full_like(a, _NEG_INF)
        if k > 0:
            out[:, k:] = a[:, :-k]
        else:
            out[:, :k] = a[:, -k:]
        return out

    alpha = np.full((n_time, batch, n_ext), _NEG_INF)
    alpha[0, :, :2] = emit[0, :, :2]
    for step in range(1, n_time):
        prev = alpha[step - 1]
        alpha[step] = _logsumexp(prev, shift(prev, 1),
                                 np.where(skip, shift(prev, 2), _NEG_INF)) + emit[step]
    last = np.maximum(logit_length - 1, 0)
    end = 2 * label_length
    final = alpha[last, np.arange(batch)]
    log_like = _logsumexp(final[np.arange(batch), end],
                          np.where(end > 0, final[np.arange(batch), end - 1], _NEG_INF))
    # no frames: only the empty label is possible (alpha[0] would count a frame)
    log_like = np.where(logit_length <= 0,
                        np.where(label_length == 0, 0.0, _NEG_INF), log_like)
    beta = np.full((n_time, batch, n_ext), _NEG_INF)
    start = np.where(valid_s & ((s_idx[None] == end[:, None]) |
                                (s_idx[None] == end[:, None] - 1)), 0.0, _NEG_INF)
    skip_next = np.zeros_like(skip)
    skip_next[:, :-2] = skip[:, 2:]
    for step in range(n_time - 1, -1, -1):
        if step + 1 < n_time:
            nxt = beta[step + 1]
            back = _logsumexp(nxt, shift(nxt, -1),
                              np.where(skip_next, shift(nxt, -2), _NEG_INF))
        else:
            back = np.full((batch, n_ext), _NEG_INF)
        here = np.where((step == last)[:, None], start, back)
        here = np.where((step > last)[:, None], _NEG_INF, here)
        beta[step] = here + emit[step]
    feasible = np.isfinite(log_like)
    ll_safe = np.where(feasible, log_like, 0.0)
    with np.errstate(invalid="ignore"):   # -inf - -inf off the label's paths
        occupancy = np.exp(alpha + beta - emit - ll_safe[None, :, None])
    occupancy = np.where(np.isfinite(occupancy), occupancy, 0.0)
    onehot = ext[:, :, None] == np.arange(n_class)[None, None, :]     # [B, S, K]
    per_class = np.einsum("tbs,bsk->tbk", occupancy, onehot)
    in_time = (np.arange(n_time)[:, None] < logit_length[None, :])[:, :, None]
    grad = np.where(in_time & feasible[None, :, None], np.exp(logp) - per_class, 0.0)
    return -log_like, grad


@primitive("CTCLoss", n_out=2)
def ctc_loss_p(d, logits, labels, label_length, logit_length, *, blank):
    host = d.to_numpy
    loss, grad = _ctc_host(host(logits).astype(np.float64), host(labels).astype(np.int64),
                           host(label_length).astype(np.int64),
                           host(logit_length).astype(np.int64), blank)
    return (d.asarray(loss.astype(logits.dtype)), d.asarray(grad.astype(logits.dtype)))


@ctc_loss_p.defgrad
def _ctc_loss_grad(inputs, out, dy, *, blank):
    dloss = dy[0]
    saved = _array.stop_gradient(out[1])
    return (_m.multiply(saved, _array.reshape(dloss, (1, -1, 1))), None, None, None)


def _int_vector(value, batch, what):
    v = value if isinstance(value, Tensor) else convert_to_tensor(value)
    v = _array.reshape(_m.cast(v, dtypes.int64), (-1,))
    if v.shape[0] != batch:
        raise ValueError(f"ctc_loss: `{what}` must have one entry per batch element "
                         f"({batch}); received shape {tuple(v.shape)}")
    return v


def _sparse_labels(labels):
    """Dense [B, L] labels and their lengths from a SparseTensor of label rows."""
    idx = labels.indices.numpy() if isinstance(labels.indices, Tensor) else \
        np.asarray(labels.indices)
    batch = int(np.asarray(labels.dense_shape.numpy() if isinstance(
        labels.dense_shape, Tensor) else labels.dense_shape)[0])
    lengths = np.zeros(batch, dtype=np.int64)
    if len(idx):
        np.maximum.at(lengths, idx[:, 0], idx[:, 1] + 1)
    return to_dense(labels), convert_to_tensor(lengths)


def ctc_loss(labels, logits, label_length, logit_length, logits_time_major=True,
             unique=None, blank_index=None, name=None):
    """Negative log-likelihood of each label sequence under CTC (TF2 ``tf.nn.ctc_loss``).

    Args:
      labels: int ``[batch, max_label_length]`` dense labels (entries past
        ``label_length`` are ignored) or a ``SparseTensor`` of label rows.
      logits: unnormalized scores ``[frames, batch, num_labels]`` (``[batch, frames,
        num_labels]`` when ``logits_time_major`` is False).
      label_length: ``[batch]`` label lengths (None for SparseTensor labels).
      logit_length: ``[batch]`` number of valid frames of each sequence.
      logits_time_major: the layout of ``logits``.
      unique: accepted for compatibility (an optimization hint in TF).
      blank_index: the class of the blank label (default 0; negative values count
        from ``num_labels``).

    Returns:
      ``[batch]`` losses (``inf`` for a label that cannot fit in its frames).
    """
    logits = t(logits)
    if not logits.dtype.is_floating:
        raise TypeError(f"ctc_loss: logits must be floating point, got {logits.dtype.name}")
    if logits.ndim != 3:
        raise ValueError(f"ctc_loss: logits must have rank 3, got shape {logits.shape}")
    if not logits_time_major:
        logits = _array.transpose(logits, (1, 0, 2))
    batch, n_class = logits.shape[1], logits.shape[2]
    if isinstance(labels, SparseTensor):
        if blank_index is None:
            raise ValueError("ctc_loss: argument `blank_index` must be provided when "
                             "`labels` is a SparseTensor; received blank_index=None")
        labels, sparse_length = _sparse_labels(labels)
        label_length = sparse_length if label_length is None else label_length
    labels = _m.cast(t(labels), dtypes.int64)
    if labels.ndim != 2 or labels.shape[0] != batch:
        raise ValueError(f"ctc_loss: labels must be [batch={batch}, max_label_length]; "
                         f"received shape {tuple(labels.shape)}")
    if label_length is None:
        raise ValueError("ctc_loss: `label_length` is required for dense labels")
    blank = 0 if blank_index is None else int(blank_index)
    if not -n_class <= blank < n_class:
        raise ValueError(f"ctc_loss: blank_index must be in [-{n_class}, {n_class}); "
                         f"received blank_index={blank_index}")
    label_length = _int_vector(label_length, batch, "label_length")
    logit_length = _int_vector(logit_length, batch, "logit_length")
    loss, _ = call(ctc_loss_p, (logits, labels, label_length, logit_length),
                   {"blank": blank % n_class})
    return loss


# ---------------------------------------------------------------- decoders
def _decoded_sparse(paths, batch, device):
    """A SparseTensor [batch, longest] of int64 label rows."""
    indices = [[b, i] for b, path in enumerate(paths) for i in range(len(path))]
    values = [v for path in paths for v in path]
    width = max((len(p) for p in paths), default=0)
    return SparseTensor(
        convert_to_tensor(np.asarray(indices, dtype=np.int64).reshape(-1, 2), device=device),
        convert_to_tensor(np.asarray(values, dtype=np.int64), device=device),
        convert_to_tensor(np.asarray([batch, width], dtype=np.int64), device=device))


def _host_inputs(inputs, sequence_length):
    x = t(inputs)
    if x.ndim != 3:
        raise ValueError(f"inputs must be [max_time, batch, num_classes]; received shape "
                         f"{tuple(x.shape)}")
    if 0 in x.shape[:2]:
        raise InvalidArgumentError(f"inputs must not be empty; received shape "
                                   f"{tuple(x.shape)}")
    lengths = t(sequence_length).numpy().astype(np.int64).reshape(-1)
    if lengths.size != x.shape[1]:
        raise ValueError(f"sequence_length must have {x.shape[1]} entries; received "
                         f"{lengths.size}")
    too_long = np.flatnonzero(lengths > x.shape[0])
    if too_long.size:
        b = int(too_long[0])
        raise FailedPreconditionError(f"sequence_length({b}) <= {x.shape[0]}; "
                                      f"received {int(lengths[b])}")
    # TF runs no frame for a negative length
    return x, x.numpy().astype(np.float64), np.maximum(lengths, 0)


def ctc_greedy_decoder(inputs, sequence_length, merge_repeated=True, blank_index=None):
    """Best-path decoding: the most likely class per frame, repeats merged, blanks
    dropped.

    Args:
      inputs: logits ``[max_time, batch, num_classes]``.
      sequence_length: ``[batch]`` valid frames per sequence.
      merge_repeated: merge consecutive repeats of a class.
      blank_index: the blank class (default ``num_classes - 1``; negative values
        count from ``num_classes``).

    Returns:
      ``([SparseTensor decoded], neg_sum_logits [batch, 1])``: the decoded labels and
      minus the sum over frames of each frame's largest logit.
    """
    x, host, lengths = _host_inputs(inputs, sequence_length)
    n_class = host.shape[2]
    blank = n_class - 1 if blank_index is None else int(blank_index) % n_class
    best = host.argmax(axis=2)
    paths, scores = [], []
    for b in range(host.shape[1]):
        frames = best[:lengths[b], b]
        path, prev = [], -1
        for c in frames.tolist():
            if c != blank and not (merge_repeated and c == prev):
                path.append(c)
            prev = c
        paths.append(path)
        scores.append(-host[:lengths[b], b].max(axis=1).sum())
    neg_sum = convert_to_tensor(np.asarray(scores, dtype=host.dtype).reshape(-1, 1),
                                device=x._device)
    return [_decoded_sparse(paths, host.shape[1], x._device)], _m.cast(neg_sum, x.dtype)


class _Beam:
    """One label prefix of the beam-search tree with its log-probabilities
    ``[ending in blank, ending in its last label, total]`` at the previous (``old``)
    and current (``new``) frame; ``new[2] == -inf`` means "not in the beam"."""

    __slots__ = ("children", "label", "new", "old", "parent")

    def __init__(self, label, parent):
        self.label, self.parent, self.children = label, parent, {}
        self.old = [_NEG_INF] * 3
        self.new = [_NEG_INF] * 3

    def active(self):
        return self.new[2] != _NEG_INF

    def path(self):
        labels, node = [], self
        while node.parent is not None:
            labels.append(node.label)
            node = node.parent
        return labels[::-1]


class _Leaves:
    """The beam: at most ``width`` prefixes, cheapest one poppable (a min-heap).

    A prefix's total never changes while it sits here, so heap entries stay valid.
    """

    def __init__(self, width):
        self.width, self.heap, self.count = width, [], 0

    def push(self, beam):
        self.count += 1
        heapq.heappush(self.heap, (beam.new[2], self.count, beam))

    def admits(self, total):
        return total > _NEG_INF and (len(self.heap) < self.width
                                     or total > self.heap[0][0])

    def make_room(self):
        if len(self.heap) >= self.width:
            heapq.heappop(self.heap)[2].new = [_NEG_INF] * 3

    def best_first(self):
        return [b for _, _, b in sorted(self.heap, key=lambda e: (-e[0], e[1]))]


def _beam_step(branches, frame, blank, leaves):
    """Advances the beam by one frame of log-probabilities, the way TF's CTC beam
    search does: first every kept prefix is carried on (staying on its last label,
    or arriving from its parent while the parent is still in the beam, or emitting a
    blank), then each prefix is extended by every label, and an extension enters the
    beam only if it beats the beam's cheapest entry, which it then evicts."""
    for beam in branches:
        beam.old = list(beam.new)
    for beam in branches:
        old_total = beam.old[2]
        label_p = beam.new[1]
        parent = beam.parent
        if parent is not None:
            if parent.active():
                arrive = parent.old[0] if beam.label == parent.label else parent.old[2]
                label_p = np.logaddexp(label_p, arrive)
            label_p = label_p + frame[beam.label]
        blank_p = old_total + frame[blank]
        beam.new = [blank_p, label_p, np.logaddexp(blank_p, label_p)]
        leaves.push(beam)
    labels = [(c, p) for c, p in enumerate(frame.tolist()) if c != blank]
    for beam in branches:
        if not leaves.admits(beam.old[2]):
            continue
        for label, logp in labels:
            child = beam.children.get(label)
            if child is not None and child.active():
                continue     # already carried on from this parent above
            before = beam.old[0] if label == beam.label else beam.old[2]
            total = logp + before
            if not leaves.admits(total):
                if child is not None:
                    # TF forgets a refused prefix entirely: one evicted earlier in
                    # this frame then no longer extends itself below.
                    child.old = [_NEG_INF] * 3
                continue
            if child is None:
                child = beam.children[label] = _Beam(label, beam)
            child.new = [_NEG_INF, total, total]
            leaves.make_room()
            leaves.push(child)


def _beam_search_one(logp, beam_width, top_paths, blank):
    """Beam search over log-probabilities [T, K]; the ``top_paths`` best label
    sequences (best first) and their beam log-probabilities."""
    root = _Beam(None, None)
    root.new = [0.0, _NEG_INF, 0.0]
    branches = [root]
    for frame in logp:
        leaves = _Leaves(beam_width)
        _beam_step(branches, frame, blank, leaves)
        branches = leaves.best_first()
    if len(branches) < top_paths:
        raise InvalidArgumentError("Less leaves in the beam search than requested.")
    best = branches[:top_paths]
    return [b.path() for b in best], [float(b.new[2]) for b in best]


def ctc_beam_search_decoder(inputs, sequence_length, beam_width=100, top_paths=1):
    """Prefix beam search decoding (the blank is the last class).

    Args:
      inputs: logits ``[max_time, batch, num_classes]``.
      sequence_length: ``[batch]`` valid frames per sequence.
      beam_width: number of prefixes kept per frame.
      top_paths: number of decoded sequences returned per batch element.

    Returns:
      ``(decoded, log_probabilities)``: a list of ``top_paths`` SparseTensors (best
      first) and ``[batch, top_paths]`` sequence log-probabilities.
    """
    if int(top_paths) < 1 or int(top_paths) > int(beam_width):
        raise InvalidArgumentError(f"top_paths must be in [1, beam_width={beam_width}]; "
                                   f"received top_paths={top_paths}")
    x, host, lengths = _host_inputs(inputs, sequence_length)
    shifted = host - host.max(axis=2, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    batch, blank = host.shape[1], host.shape[2] - 1
    per_rank = [[] for _ in range(top_paths)]
    scores = np.full((batch, top_paths), _NEG_INF)
    for b in range(batch):
        paths, probs = _beam_search_one(logp[:lengths[b], b], int(beam_width),
                                        int(top_paths), blank)
        for k in range(top_paths):
            per_rank[k].append(paths[k] if k < len(paths) else [])
            if k < len(probs):
                scores[b, k] = probs[k]
    decoded = [_decoded_sparse(paths, batch, x._device) for paths in per_rank]
    return decoded, _m.cast(convert_to_tensor(scores, device=x._device), x.dtype)


__all__ = []
NN_NAMES = ["ctc_beam_search_decoder", "ctc_greedy_decoder", "ctc_loss"]
