"""``dlframe.lookup``: the tf.lookup name table."""

from dlframe.ops.lookup_ops import (  # noqa: F401
                                    DenseHashTable,
                                    KeyValueTensorInitializer,
                                    MutableHashTable,
                                    StaticHashTable,
                                    StaticVocabularyTable,
                                    TextFileIndex,
                                    TextFileInitializer,
                                    experimental,
)
