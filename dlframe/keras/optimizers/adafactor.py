"""Adafactor and Lamb: the Keras 3 optimizers for large models.

Both are written with dlframe ops in ``update_step`` (no fused kernel), so they run
eagerly and inside a compiled train step alike.
"""

from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.slice_gradients import densify_with_rows
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red


def _rms(x):
    return _math.sqrt(_red.reduce_mean(_math.square(x)))


def _step(optimizer, dtype):
    """The 1-based step number t as a float of ``dtype``."""
    return _math.cast(optimizer.iterations + 1, dtype)


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018), as ``keras.optimizers.Adafactor``.

    For variables of rank >= 2 the second moment is factored into row and column
    means ``r`` and ``c`` (``v = r c / mean(r)``); smaller variables keep a full ``v``.
    The step size is ``max(epsilon_2, rms(var)) * min(lr, 1/sqrt(t))``, the decay
    ``1 - t^beta_2_decay``, and the update is clipped to rms ``clip_threshold``.

    Args:
      learning_rate: float or schedule (default 0.001).
      beta_2_decay: exponent of the second-moment decay (default -0.8).
      epsilon_1: added to the squared gradient (default 1e-30).
      epsilon_2: lower bound of the parameter scale (default 1e-3).
      clip_threshold: rms clipping threshold of the update (default 1.0).
      relative_step: cap the learning rate at ``1/sqrt(t)`` (default True).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "adafactor"

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
                 epsilon_2=1e-3, clip_threshold=1.0, relative_step=True,
                 name="adafactor", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step
        self._r, self._c, self._v = [], [], []

    def build(self, var_list):
        super().build(var_list)
        for var in var_list:
            shape = tuple(var.shape)
            if len(shape) < 2:
                self._r.append(None)
                self._c.append(None)
            else:
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype,
                                                 name=f"{_base(var)}_r"))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:],
                                                 dtype=var.dtype, name=f"{_base(var)}_c"))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def _takes_slices(self):
        # IndexedSlices: their rows' squares (TF 2.21 squares each row of an id)
        return self._sparse_update_applies(Adafactor)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        dtype = variable.dtype
        g, sq = densify_with_rows(gradient, variable, _math.square)
        g = _math.cast(g, dtype)
        t = _step(self, dtype)
        inv_sqrt_t = _math.rsqrt(t)
        rho = _math.minimum(_math.cast(learning_rate, dtype), inv_sqrt_t)
        alpha = _math.maximum(_math.cast(self.epsilon_2, dtype), _rms(variable)) * rho
        g2 = (_math.square(g) if sq is None else sq) + self.epsilon_1
        beta = 1.0 - _math.pow(t, _math.cast(self.beta_2_decay, dtype))
        r, c, v = self._r[i], self._c[i], self._v[i]
        if r is not None:
            r.assign(beta * r + (1.0 - beta) * _red.reduce_mean(g2, axis=-1))
            c.assign(beta * c + (1.0 - beta) * _red.reduce_mean(g2, axis=-2))
            row = r / _red.reduce_mean(r, axis=-1, keepdims=True)
            v.assign(_array.expand_dims(row, -1) * _array.expand_dims(c, -2))
        else:
            v.assign(beta * v + (1.0 - beta) * g2)
        u = g / _math.sqrt(v)
        # slices: the RMS of the update's rows, each squared apart
        rms_u = _rms(u) if sq is None else _math.sqrt(_red.reduce_mean(sq / v))
        u = u / _math.maximum(_math.cast(1.0, dtype), rms_u / self.clip_threshold)
        variable.assign_sub(alpha * u)

    def get_config(self):
        config = super().get_config()
        config.update(beta_2_decay=self.beta_2_decay, epsilon_1=self.epsilon_1,
                      epsilon_2=self.epsilon_2, clip_threshold=self.clip_threshold,
                      relative_step=self.relative_step)
        return config


class Lamb(Optimizer):
    """LAMB (You et al. 2019), as ``keras.optimizers.Lamb``: Adam's bias-corrected
    update ``u = m_hat / (sqrt(v_hat) + epsilon)`` scaled per variable by the trust
    ratio ``||var|| / ||u||`` (1 when either norm is 0).

    Args:
      learning_rate: float or schedule (default 0.001).
      beta_1: decay of the first moment (default 0.9).
      beta_2: decay of the second moment (default 0.999).
      epsilon: small constant for numerical stability (default 1e-7).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "lamb"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="lamb", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._momentums, self._velocities = [], []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._momentums.append(self.add_variable_from_reference(v, "momentum"))
            self._velocities.append(self.add_variable_from_reference(v, "velocity"))

    def _takes_slices(self):
        # IndexedSlices: their rows' squares (TF 2.21 squares each row of an id)
        return self._sparse_update_applies(Lamb)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        dtype = variable.dtype
        g, sq = densify_with_rows(gradient, variable, _math.square)
        g = _math.cast(g, dtype)
        t = _step(self, dtype)
        m, v = self._momentums[i], self._velocities[i]
        m.assign(m + (g - m) * (1.0 - self.beta_1))
        v.assign(v + ((_math.square(g) if sq is None else sq) - v) * (1.0 - self.beta_2))
        m_hat = m / (1.0 - _math.pow(_math.cast(self.beta_1, dtype), t))
        v_hat = v / (1.0 - _math.pow(_math.cast(self.beta_2, dtype), t))
        update = m_hat / (_math.sqrt(v_hat) + self.epsilon)
        w_norm = _linalg.norm(variable)
        u_norm = _linalg.norm(update)
        ok = _logic.logical_and(_logic.greater(w_norm, 0.0),
                                 _logic.greater(u_norm, 0.0))
        ratio = _logic.where(ok, w_norm / _logic.where(ok, u_norm, 1.0), 1.0)
        variable.assign_sub(_math.cast(learning_rate, dtype) * ratio * update)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config


def _base(var):
    return var.name.split(":")[0].replace("/", "_")

