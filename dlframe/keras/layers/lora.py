"""LoRA (low-rank adaptation, Keras 3) for layers with one big weight.

``enable_lora(rank)`` freezes the layer's main weight W (Dense/EinsumDense
``kernel``, Embedding ``embeddings``) and adds two trainable factors ``a``
(W's shape with the last axis replaced by ``rank``, he_uniform) and ``b``
(``(rank, W.shape[-1])``, zeros); the layer then computes with
``W + (a @ b) * lora_alpha / rank``, so a fresh adapter leaves the output unchanged.
The public attribute (``layer.kernel``) reads that effective weight, as in Keras 3.
As in Keras 3, the frozen weight's regularizer no longer adds a loss (``a`` and ``b``
get it instead), a constrained weight cannot take LoRA, and weight files
(``save_own_variables``) hold the merged weight without the factors, so a plain
layer loads them and loading into a LoRA layer zeroes its factors.
"""

from dlframe.keras import initializers
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math


def check_lora_rank(rank, name="lora_rank"):
    """``rank`` as an int (0/None disable LoRA); ValueError for anything else."""
    if rank is None:
        return None
    if hasattr(rank, "__index__") and not isinstance(rank, bool):
        rank = rank.__index__()
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. "
                         f"Received: {name}={rank!r}")
    return rank


class LoraMixin:
    """Adds ``enable_lora`` to a layer whose main weight is ``_lora_target``.

    The layer stores that weight as ``_<target>`` and exposes ``<target>`` through
    ``lora_weight_property``; it calls ``_init_lora`` in ``__init__``,
    ``_build_lora`` at the end of ``build`` and adds ``_lora_config()`` to its config.
    """

    _lora_target = "kernel"
    lora_enabled = False

    def _init_lora(self, lora_rank, lora_alpha):
        self.lora_rank = check_lora_rank(lora_rank)
        if lora_alpha is not None and (isinstance(lora_alpha, bool) or
                                       not isinstance(lora_alpha, (int, float))):
            raise ValueError("`lora_alpha` must be a number. "
                             f"Received: lora_alpha={lora_alpha!r}")
        self.lora_alpha = lora_alpha if lora_alpha is not None else self.lora_rank
        self.lora_enabled = False

    def _build_lora(self):
        if self.lora_rank:
            self.enable_lora(self.lora_rank, lora_alpha=self.lora_alpha)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform",
                    b_initializer="zeros"):
        """Freezes the main weight and adds trainable low-rank factors.

        Args:
          rank: positive int, the inner dimension of the ``a @ b`` update.
          lora_alpha: scale numerator: the update is ``a @ b * lora_alpha / rank``
            (default ``rank``, i.e. scale 1).
          a_initializer: initializer of ``a`` (default he_uniform).
          b_initializer: initializer of ``b`` (default zeros, so the layer's output
            is unchanged right after enabling).

        Raises:
          ValueError: the layer is not built, LoRA is already enabled, or ``rank``
            is not a positive integer.
        """
        if not self.built:
            raise ValueError("Cannot enable lora on a layer that isn't yet built.")
        if self.lora_enabled:
            raise ValueError("lora is already enabled. This can only be done once per "
                             "layer.")
        rank = check_lora_rank(rank, "rank")
        if not rank:
            raise ValueError(f"`rank` must be a positive integer. Received: rank={rank}")
        target = self._lora_target
        if getattr(self, f"{target}_constraint", None) is not None:
            raise ValueError(f"Lora is incompatible with {target} constraints. In order "
                             "to enable lora on this layer, remove the "
                             f"`{target}_constraint` argument.")
        base = getattr(self, "_" + target)
        base._trainable = False   # frozen in place: weights keep their order
        # add_weight's penalty callables hold their variable as first default
        self._callable_losses = [
            fn for fn in self._callable_losses
            if (getattr(fn, "__defaults__", None) or (None,))[0] is not base]
        shape = tuple(base.shape.as_list())
        regularizer = getattr(self, f"{target}_regularizer", None)
        for suffix, factor_shape, init in (("a", shape[:-1] + (rank,), a_initializer),
                                           ("b", (rank, shape[-1]), b_initializer)):
            name = f"lora_{target}_{suffix}"
            setattr(self, name, self.add_weight(
                name, shape=factor_shape, initializer=initializers.get(init),
                regularizer=regularizer))
        self.lora_rank = rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else rank
        self.lora_enabled = True

    def _lora_factors(self):
        return (getattr(self, f"lora_{self._lora_target}_a"),
                getattr(self, f"lora_{self._lora_target}_b"))

    def _lora_effective(self, base):
        if not self.lora_enabled:
            return base
        a, b = self._lora_factors()
        if len(a.shape) == 2:
            update = _linalg.matmul(a, b)
        else:   # EinsumDense kernels: contract a's last axis with b's first
            update = _linalg.tensordot(a, b, axes=1)
        return base + update * (self.lora_alpha / self.lora_rank)

    def _own_variables(self):
        own = super()._own_variables()
        if not self.lora_enabled:
            return own
        factors = {id(v) for v in self._lora_factors()}
        return [v for v in own if id(v) not in factors]

    def save_own_variables(self, store):
        """Writes the layer's variables, the LoRA-merged weight in place of the
        frozen one and no factors (Keras 3's layout)."""
        super().save_own_variables(store)
        if self.lora_enabled:
            base = self.__dict__["_" + self._lora_target]
            index = [id(v) for v in self._own_variables()].index(id(base))
            store[str(index)] = self._lora_effective(base).numpy()

    def load_own_variables(self, store):
        """Loads what ``save_own_variables`` wrote; LoRA factors restart at zero."""
        super().load_own_variables(store)
        if self.lora_enabled:
            for factor in self._lora_factors():
                factor.assign(_array.zeros(factor.shape, dtype=factor.dtype))

    def _lora_config(self):
        if not self.lora_rank:
            return {}
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}


def lora_weight_property(target):
    """The ``<target>`` attribute of a LoraMixin layer: the stored Variable, or its
    LoRA-adapted value once LoRA is enabled; assigning sets the stored Variable."""

    def getter(self):
        try:
            base = self.__dict__["_" + target]
        except KeyError:   # not built yet: as a plain missing attribute
            raise AttributeError(f"'{type(self).__name__}' object has no attribute "
                                 f"'{target}'") from None
        if not self.lora_enabled:
            return base
        # Keras 3 reads the adapted weight in the compute dtype (float16 under
        # mixed_float16), also outside ``call``
        return _math.cast(self._lora_effective(base), self.compute_dtype)

    def setter(self, value):
        self.__dict__["_" + target] = value

    return property(getter, setter)

