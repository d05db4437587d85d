"""``cupyx.scipy.special``: SciPy's special functions on device arrays (strict)."""

import scipy.special
from cupy import _core

# the names real cupyx.scipy.special 14.2 has (dir() read on an H100); any other
# SciPy function (dawsn, fresnel, spence, iv, ...) is an AttributeError there
_IN_CUPYX = frozenset(("bdtr", "bdtrc", "bdtri", "beta", "betainc", "betaincinv",
    "betaln", "binom", "boxcox", "boxcox1p", "btdtr", "btdtri", "cbrt", "chdtr",
    "chdtrc", "chdtri", "cosdg", "cosm1", "cotdg", "digamma", "ellipeinc", "ellipj",
    "ellipk", "ellipkinc", "ellipkm1", "entr", "erf", "erfc", "erfcinv", "erfcx",
    "erfinv", "exp1", "exp10", "exp2", "expi", "expit", "expm1", "expn", "exprel",
    "fdtr", "fdtrc", "fdtri", "gamma", "gammainc", "gammaincc", "gammainccinv",
    "gammaincinv", "gammaln", "gammasgn", "gdtr", "gdtrc", "huber", "i0", "i0e", "i1",
    "i1e", "inv_boxcox", "inv_boxcox1p", "j0", "j1", "k0", "k0e", "k1", "k1e",
    "kl_div", "lambertw", "log1p", "log_expit", "log_ndtr", "log_softmax", "loggamma",
    "logit", "logsumexp", "lpmv", "multigammaln", "nbdtr", "nbdtrc", "nbdtri", "ndtr",
    "ndtri", "pdtr", "pdtrc", "pdtri", "poch", "polygamma", "pseudo_huber", "psi",
    "radian", "rel_entr", "rgamma", "round", "shichi", "sici", "sinc", "sindg",
    "softmax", "sph_harm", "sph_harm_y", "spherical_yn", "tandg", "wright_bessel",
    "xlog1py", "xlogy", "y0", "y1", "yn", "zeta", "zetac"))


def __getattr__(name):
    if name not in _IN_CUPYX:
        raise AttributeError(f"module 'cupyx.scipy.special' has no attribute {name!r}")
    func = getattr(scipy.special, name)
    if not callable(func):
        return func

    def call(*args, **kwargs):
        if name == "polygamma" and args and not hasattr(args[0] == 0, "astype"):
            # CuPy's polygamma calls ``(n == 0).astype``: a Python order fails
            raise AttributeError(f"'{type(args[0] == 0).__name__}' object has no "
                                 "attribute 'astype'")
        result = func(*_core.unwrap_args(args, f"cupyx.scipy.special.{name}"),
                      **_core.unwrap_kwargs(kwargs, f"cupyx.scipy.special.{name}"))
        return _core.wrap(result)
    call.__name__ = name
    globals()[name] = call
    return call
