"""``tf.AggregationMethod``: how ``tf.gradients`` sums the gradient contributions of a
tensor used several times."""


class AggregationMethod:
    """Names of the gradient aggregation methods.

    dlframe always adds contributions as they arrive; every method gives the same
    sums (TF's methods differ only in memory use and summation order).
    """

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2
