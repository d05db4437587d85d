"""Memory pools of the fake CuPy: byte counts of live device arrays are not tracked,
the methods dlframe calls answer plausibly."""

import contextlib


class OutOfMemoryError(MemoryError):
    pass


class MemoryPool:
    def __init__(self, allocator=None):
        self._limit = 0

    def malloc(self, size):
        raise NotImplementedError("fake CuPy: raw allocation is not supported")

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_bytes(self):
        return 0

    def n_free_blocks(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass

    def set_limit(self, size=None, fraction=None):
        self._limit = int(size or 0)

    def get_limit(self):
        return self._limit


class PinnedMemoryPool(MemoryPool):
    pass


_pool = MemoryPool()
_pinned = PinnedMemoryPool()


def get_default_memory_pool():
    return _pool


def get_default_pinned_memory_pool():
    return _pinned


def set_allocator(allocator=None):
    pass


@contextlib.contextmanager
def using_allocator(allocator=None):
    yield
