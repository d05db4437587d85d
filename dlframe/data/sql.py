"""``tf.data.experimental.SqlDataset``: the rows of an SQLite query as scalar tuples.

Values are converted as SQLite's column accessors convert them (NULL is 0, 0.0 or
b""; text read as a number takes its leading numeric prefix), by asking SQLite itself
to ``CAST`` wherever the stored type differs from the requested one.
"""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset
from dlframe.data.options import UNKNOWN_CARDINALITY
from dlframe.errors import InvalidArgumentError, UnknownError

_INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16")
_SUPPORTED = ("string",) + _INTEGERS + ("bool", "float64")
_SUPPORTED_NAMES = ("DT_STRING, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_UINT8, "
                    "DT_UINT16, DT_BOOL, DT_DOUBLE")


class SqlDataset(Dataset):
    """A dataset of the rows of an SQL query (SQLite only, as TF).

    Args:
      driver_name: the database type; only ``"sqlite"`` is supported.
      data_source_name: the path of the database file.
      query: the SQL query to run.
      output_types: a tuple of dtypes, one per column of the query (or one dtype
        for single-column rows given as scalars).

    Raises:
      InvalidArgumentError: an unsupported driver or output type.
    """

    def __init__(self, driver_name, data_source_name, query, output_types):
        super().__init__()
        driver = _text(driver_name)
        if driver != "sqlite":
            raise InvalidArgumentError(
                None, None, f"The database type, {driver}, is not supported by "
                "SqlDataset. The set of supported databases is: {'sqlite'}.")
        self._path = _text(data_source_name)
        self._query = _text(query)
        self._single = not isinstance(output_types, tuple)
        types = (output_types,) if self._single else output_types
        self._dtypes = tuple(_dt.as_dtype(t) for t in types)
        for dtype in self._dtypes:
            if dtype.name not in _SUPPORTED:
                raise InvalidArgumentError(
                    None, None, "Each element of `output_types_` must be one of: "
                    f"{_SUPPORTED_NAMES} ")
        specs = tuple(S.TensorSpec([], d) for d in self._dtypes)
        self._spec = specs[0] if self._single else specs

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _iter(self):
        import sqlite3   # here, not at import: it costs ~4 ms of `import dlframe`
        try:
            # (an iterator may go on, or be dropped, on another thread)
            con = sqlite3.connect(self._path, check_same_thread=False)
        except sqlite3.Error as e:
            raise InvalidArgumentError(
                None, None, f"Sqlite::Open({self._path}) failed: {e}") from None
        try:
            try:
                cursor = con.execute(self._query)
            except sqlite3.Error as e:
                raise UnknownError(
                    None, None, f"Prepare() failed: [1] {e}: {self._query}") from None
            if cursor.description is None or \
                    len(cursor.description) != len(self._dtypes):
                got = 0 if cursor.description is None else len(cursor.description)
                raise InvalidArgumentError(
                    None, None, f"The number of columns in query ({got}) must match "
                    f"the number of elements in output_types ({len(self._dtypes)}).")
            for row in cursor:
                values = tuple(_convert(con, v, d) for v, d in zip(row, self._dtypes))
                yield values[0] if self._single else values
        finally:
            con.close()


def _text(value):
    value = S.to_host_leaf(value) if not isinstance(value, (str, bytes)) else value
    if isinstance(value, np.ndarray):
        value = value.item()
    return value.decode() if isinstance(value, bytes) else str(value)


def _cast(con, value, sql_type):
    return con.execute(f"SELECT CAST(? AS {sql_type})", (value,)).fetchone()[0]


def _convert(con, value, dtype):
    """One column value as SQLite's ``sqlite3_column_*`` accessor for ``dtype``."""
    name = dtype.name
    if name == "string":
        if value is None:
            out = b""
        elif isinstance(value, bytes):
            out = value
        elif isinstance(value, str):
            out = value.encode()
        else:
            out = _cast(con, value, "TEXT").encode()
        return np.asarray(out, dtype=object)
    if name == "float64":
        if value is None:
            value = 0.0
        elif not isinstance(value, (int, float)):
            value = _cast(con, value, "REAL") or 0.0
        return np.asarray(float(value), dtype=np.float64)
    if value is None:
        value = 0
    elif not isinstance(value, int):
        value = _cast(con, value, "INTEGER") or 0
    if name == "bool":
        return np.asarray(value != 0)
    # as a C cast of the 64-bit integer to the narrower type
    return np.asarray(np.int64(value)).astype(dtype.as_numpy_dtype)
