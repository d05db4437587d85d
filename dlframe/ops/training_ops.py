"""Fused in-place optimizer updates, one stateful primitive per (optimizer, variable).

Like TensorFlow's ``ResourceApply*`` training ops: the update of a variable and its
slots is a single primitive call (DESIGN.md §11: per-op overhead dominates small
models), written once against ``xp``. Inputs are ``(variable, *slots, grad, lr,
iterations)``; ``lr`` and ``iterations`` are device scalars so that a compiled step
reads their current values; the other hyperparameters are static attributes.
Each forward updates the variable and slot buffers in place and returns the
variable's buffer. None of them is differentiable.

The kernels with a squared (Adamax: absolute) gradient term take an optional last
input ``sq``: that term, summed per id from the rows of an IndexedSlices gradient
(TF 2.21 squares each row of a repeated id, then adds them), in place of
``square(grad)`` of the summed gradient.
"""

from dlframe.core.primitive import primitive


def _prep(var, grad, lr, it):
    dt = var.dtype
    return grad.astype(dt, copy=False), lr.astype(dt, copy=False), \
        (it + 1).astype(dt, copy=False)


@primitive("KerasApplySGD", effects=True)
def sgd_p(d, var, grad, lr, it):
    var -= grad.astype(var.dtype, copy=False) * lr.astype(var.dtype, copy=False)
    return var


@primitive("KerasApplyMomentum", effects=True)
def momentum_p(d, var, m, grad, lr, it, *, momentum, nesterov):
    g, lr, _ = _prep(var, grad, lr, it)
    step = g * lr
    m *= momentum
    m -= step
    if nesterov:
        var += m * momentum - step
    else:
        var += m
    return var


@primitive("KerasApplyRMSprop", effects=True)
def rmsprop_p(d, var, vel, mom, avg, grad, lr, it, sq=None, *, rho, momentum, epsilon,
              centered):
    xp = d.xp
    g, lr, _ = _prep(var, grad, lr, it)
    vel *= rho
    vel += (1 - rho) * (xp.square(g) if sq is None else sq)
    if centered:
        avg *= rho
        avg += (1 - rho) * g
        denom = vel - xp.square(avg) + epsilon
    else:
        denom = vel + epsilon
    inc = lr * g / xp.sqrt(denom)
    if momentum > 0:
        mom *= momentum
        mom += inc
        var -= mom
    else:
        var -= inc
    return var


@primitive("KerasApplyAdam", effects=True)
def adam_p(d, var, m, v, vhat, grad, lr, it, sq=None, *, beta_1, beta_2, epsilon,
           amsgrad):
    xp = d.xp
    g, lr, t = _prep(var, grad, lr, it)
    alpha = lr * xp.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m += (g - m) * (1 - beta_1)
    v += ((xp.square(g) if sq is None else sq) - v) * (1 - beta_2)
    if amsgrad:
        xp.maximum(vhat, v, out=vhat)
        v = vhat
    var -= m * alpha / (xp.sqrt(v) + epsilon)
    return var


@primitive("KerasApplyAdamax", effects=True)
def adamax_p(d, var, m, u, grad, lr, it, sq=None, *, beta_1, beta_2, epsilon):
    # ``sq``: the absolute values of a repeated id's rows, summed
    xp = d.xp
    g, lr, t = _prep(var, grad, lr, it)
    m += (g - m) * (1 - beta_1)
    xp.maximum(u * beta_2, xp.abs(g) if sq is None else sq, out=u)
    var -= lr * m / ((1 - beta_1 ** t) * (u + epsilon))
    return var


@primitive("KerasApplyNadam", effects=True)
def nadam_p(d, var, m, v, grad, lr, it, u_product, sq=None, *, beta_1, beta_2, epsilon):
    # ``u_product`` already includes this step's factor (updated once per step).
    # Keras's Nadam casts the betas to the variable's dtype before ``1 - beta``.
    xp = d.xp
    g, lr, t = _prep(var, grad, lr, it)
    beta_1, beta_2 = var.dtype.type(beta_1), var.dtype.type(beta_2)
    u_t = beta_1 * (1.0 - 0.5 * 0.96 ** t)
    u_t1 = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
    u_prod = u_product.astype(var.dtype, copy=False)
    m += (g - m) * (1 - beta_1)
    v += ((xp.square(g) if sq is None else sq) - v) * (1 - beta_2)
    m_hat = u_t1 * m / (1 - u_prod * u_t1) + (1 - u_t) * g / (1 - u_prod)
    v_hat = v / (1 - beta_2 ** t)
    var -= m_hat * lr / (xp.sqrt(v_hat) + epsilon)
    return var


@primitive("KerasNadamUProduct", effects=True)
def nadam_u_product_p(d, u_product, it, *, beta_1):
    t = (it + 1).astype(u_product.dtype)
    u_product *= beta_1 * (1.0 - 0.5 * 0.96 ** t)
    return u_product


@primitive("KerasApplyAdagrad", effects=True)
def adagrad_p(d, var, acc, grad, lr, it, sq=None, *, epsilon):
    xp = d.xp
    g, lr, _ = _prep(var, grad, lr, it)
    acc += xp.square(g) if sq is None else sq
    var -= lr * g / xp.sqrt(acc + epsilon)
    return var


@primitive("KerasApplyAdadelta", effects=True)
def adadelta_p(d, var, acc_g, acc_d, grad, lr, it, sq=None, *, rho, epsilon):
    xp = d.xp
    g, lr, _ = _prep(var, grad, lr, it)
    acc_g *= rho
    acc_g += (1 - rho) * (xp.square(g) if sq is None else sq)
    ratio = xp.sqrt(acc_d + epsilon) / xp.sqrt(acc_g + epsilon)
    delta = -ratio * g
    acc_d *= rho
    # each row's delta is squared: ``ratio^2 * sq`` sums a repeated id's squares
    acc_d += (1 - rho) * (xp.square(delta) if sq is None else xp.square(ratio) * sq)
    var += lr * delta
    return var


@primitive("KerasApplyFtrl", effects=True)
def ftrl_p(d, var, acc, lin, grad, lr, it, sq=None, *, lr_power, l1, l2, l2_shrinkage,
           beta):
    xp = d.xp
    g, lr, _ = _prep(var, grad, lr, it)
    l2_reg = l2 + beta / (2.0 * lr)
    g_shrunk = g + 2 * l2_shrinkage * var
    new_acc = acc + (xp.square(g) if sq is None else sq)
    new_pow = new_acc ** (-lr_power)
    lin += g_shrunk - (new_pow - acc ** (-lr_power)) / lr * var
    quadratic = new_pow / lr + 2 * l2_reg
    var[...] = (xp.clip(lin, -l1, l1) - lin) / quadratic
    acc[...] = new_acc
    return var


@primitive("KerasApplyLion", effects=True)
def lion_p(d, var, m, grad, lr, it, *, beta_1, beta_2):
    xp = d.xp
    g, lr, _ = _prep(var, grad, lr, it)
    var -= lr * xp.sign(m * beta_1 + g * (1 - beta_1))
    m *= beta_2
    m += g * (1 - beta_2)
    return var


@primitive("KerasEMAUpdate", effects=True)
def ema_p(d, avg, var, it, *, momentum):
    m = (it != 0).astype(avg.dtype) * momentum  # the first step copies the variable
    avg *= m
    avg += (1 - m) * var
    return avg
