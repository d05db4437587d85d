"""``cupyx.scipy`` of the fake CuPy (``special`` only)."""
