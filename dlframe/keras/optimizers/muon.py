"""Muon: momentum orthogonalized by Newton-Schulz iterations for 2-D weights, AdamW
for everything else (Jordan et al. 2024; Liu et al. 2025's RMS matching)."""

import re

from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import training_ops as _kernels


def _path(variable):
    return getattr(variable, "path", None) or variable.name.split(":")[0]


class Muon(Optimizer):
    """Muon, as ``keras.optimizers.Muon``.

    A 2-D variable (not an embedding, not matching ``exclude_layers``) keeps a
    momentum ``m = momentum * m + g``; the step direction (``g + momentum * m`` with
    Nesterov, else ``m``) is replaced by an approximately orthogonal matrix from
    ``ns_steps`` quintic Newton-Schulz iterations ``X <- a X + (b A + c A^2) X``,
    ``A = X X^T`` (starting from the direction over its Frobenius norm), scaled by
    ``sqrt(max(rows, cols)) * rms_rate`` and times ``learning_rate``. Other variables
    take an AdamW step with ``learning_rate * adam_lr_ratio``. Decoupled weight decay
    uses ``weight_decay`` (Muon variables) or ``adam_weight_decay`` (the others).

    Args:
      learning_rate: float or schedule (default 0.001).
      adam_beta_1, adam_beta_2: AdamW moment decays (0.9, 0.999).
      adam_weight_decay: decay of the AdamW variables (0.004; None: none).
      epsilon: AdamW's epsilon (1e-7).
      weight_decay: decay of the Muon variables (0.004; None: none).
      exclude_layers: regular expressions; variables whose path matches one use AdamW.
      exclude_embeddings: variables whose path contains 'embedding' use AdamW.
      muon_a, muon_b, muon_c: the Newton-Schulz coefficients.
      adam_lr_ratio: AdamW's learning rate relative to ``learning_rate``.
      momentum: Muon's momentum (0.95).
      ns_steps: Newton-Schulz iterations (5).
      nesterov: use the Nesterov direction.
      rms_rate: update scale factor (0.2; None: no scaling).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "muon"

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 exclude_layers=None, exclude_embeddings=True, muon_a=3.4445,
                 muon_b=-4.775, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True,
                 rms_rate=0.2, **kwargs):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name,
            **kwargs)
        if int(ns_steps) < 0:
            raise ValueError(f"`ns_steps` must be a non-negative integer. Received: "
                             f"ns_steps={ns_steps}")
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = epsilon
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = exclude_embeddings
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = int(ns_steps)
        self.nesterov = nesterov
        self.rms_rate = rms_rate
        self._momentums, self._velocities = [], []

    def _uses_adamw(self, variable):
        if len(variable.shape) != 2:
            return True
        path = _path(variable)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in self.exclude_layers)

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._momentums.append(self.add_variable_from_reference(v, "momentum"))
            self._velocities.append(self.add_variable_from_reference(v, "velocity")
                                    if self._uses_adamw(v) else None)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        m, v = self._momentums[i], self._velocities[i]
        if v is not None:
            lr = _math.multiply(learning_rate, float(self.adam_lr_ratio))
            self._kernel_update(_kernels.adam_p, variable, (m, v, v), gradient, lr, {
                "beta_1": float(self.adam_beta_1), "beta_2": float(self.adam_beta_2),
                "epsilon": float(self.epsilon), "amsgrad": False})
            return
        gradient = _math.cast(gradient, variable.dtype)
        m.assign(_math.add(_math.multiply(m, float(self.momentum)), gradient))
        direction = _math.add(gradient, _math.multiply(m, float(self.momentum))) \
            if self.nesterov else m.read_value()
        update = self.orthogonalize(direction, self.ns_steps)
        if self.rms_rate is not None:
            rows, cols = variable.shape[0], variable.shape[1]
            scale = max(rows, cols) ** 0.5 * float(self.rms_rate)
            update = _math.multiply(update, scale)
        lr = _math.cast(learning_rate, variable.dtype)
        variable.assign_sub(_math.multiply(update, lr))

    def orthogonalize(self, x, steps):
        """The quintic Newton-Schulz approximation of ``U V^T`` for ``x = U S V^T``.

        Args:
          x: a matrix (at least 2-D; the last two axes are the matrix).
          steps: number of iterations.

        Raises:
          ValueError: ``x`` has fewer than 2 dimensions.
        """
        if len(x.shape) < 2:
            raise ValueError("Expected gradient or momentum to have at least 2 "
                             f"dimensions. Received: shape={tuple(x.shape)}")
        tall = x.shape[-2] > x.shape[-1]
        if tall:   # iterate on the wide orientation: A is the smaller Gram matrix
            x = _linalg.matrix_transpose(x)
        norm = _math.sqrt(_red.reduce_sum(_math.square(x), axis=[-2, -1],
                                          keepdims=True))
        x = _math.divide(x, _math.add(norm, 1e-7))
        a, b, c = float(self.muon_a), float(self.muon_b), float(self.muon_c)
        for _ in range(int(steps)):
            gram = _linalg.matmul(x, x, transpose_b=True)
            poly = _math.add(_math.multiply(gram, b),
                             _math.multiply(_linalg.matmul(gram, gram), c))
            x = _math.add(_math.multiply(x, a), _linalg.matmul(poly, x))
        return _linalg.matrix_transpose(x) if tall else x

    def _decays_weights(self):
        return self.weight_decay is not None or self.adam_weight_decay is not None

    def _apply_weight_decay(self, variables, lr):
        for v in variables:
            if not self._use_weight_decay(v):
                continue
            decay = self.adam_weight_decay if self._uses_adamw(v) else self.weight_decay
            if decay is None:
                continue
            factor = _math.multiply(_math.cast(lr, v.dtype), float(decay))
            v.assign_sub(_math.multiply(v, factor))

    def get_config(self):
        config = super().get_config()
        config.update(
            adam_beta_1=self.adam_beta_1, adam_beta_2=self.adam_beta_2,
            epsilon=self.epsilon, exclude_layers=self.exclude_layers,
            muon_a=self.muon_a, muon_b=self.muon_b, muon_c=self.muon_c,
            adam_lr_ratio=self.adam_lr_ratio, momentum=self.momentum,
            ns_steps=self.ns_steps, nesterov=self.nesterov,
            exclude_embeddings=self.exclude_embeddings,
            adam_weight_decay=self.adam_weight_decay, rms_rate=self.rms_rate)
        return config
