"""``tf.experimental``: the members real TF2 programs touch (``tf.experimental.numpy``)."""

from dlframe.data.iterators import Optional  # noqa: F401 - tf.experimental.Optional
from dlframe.experimental import (  # noqa: F401
    dlpack,
    extension_type,
    numpy,
)
from dlframe.experimental.dispatch import (  # noqa: F401
    dispatch_for_api,
    dispatch_for_binary_elementwise_apis,
    dispatch_for_binary_elementwise_assert_apis,
    dispatch_for_unary_elementwise_apis,
    unregister_dispatch_for,
)
from dlframe.experimental.extension_type import (  # noqa: F401
    BatchableExtensionType,
    ExtensionType,
    ExtensionTypeBatchEncoder,
    ExtensionTypeSpec,
)
