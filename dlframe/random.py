"""``dlframe.random``: random ops (filled in by dlframe.ops.random)."""
