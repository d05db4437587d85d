"""File-reading datasets: TextLineDataset, TFRecordDataset, FixedLengthRecordDataset,
CsvDataset and ``experimental.make_csv_dataset``."""

import collections
import glob
import io as _pyio
import os

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, _int_arg
from dlframe.data.options import AUTOTUNE
from dlframe.errors import InvalidArgumentError
from dlframe.io import tfrecord as _tfr
from dlframe.io.csv_split import check_delim, convert_field, split_lines


def _filenames(filenames):
    """A list of path strings from a str, list, string Tensor or Dataset of names."""
    if isinstance(filenames, Dataset):
        names = [S.to_numpy_value(e) for e in filenames._iter()]
    elif isinstance(filenames, (str, bytes, os.PathLike)):
        names = [filenames]
    else:
        names = np.asarray(S.to_host_input(filenames) if not isinstance(filenames, list)
                           else filenames, dtype=object).reshape(-1).tolist()
    bad = [n for n in names if not isinstance(n, (str, bytes, os.PathLike))]
    if bad:
        from dlframe.core.tensor import convert_to_tensor
        dtype = convert_to_tensor(bad[0]).dtype.name
        raise TypeError("The `filenames` argument must contain `tf.string` elements. "
                        f"Got `tf.{dtype}` elements.")
    return [n.decode() if isinstance(n, bytes) else os.fspath(n) for n in names]


def _scalar_bytes(value):
    arr = np.empty((), dtype=object)
    arr[()] = value
    return arr


class _FileDataset(Dataset):
    """Reads each file in turn (or ``num_parallel_reads`` of them interleaved)."""

    def __init__(self, filenames, compression_type, num_parallel_reads):
        super().__init__()
        self._files = _filenames(filenames)
        self._compression = _tfr.compression_name(compression_type)
        self._readers = 1 if num_parallel_reads in (None, 0) else (
            os.cpu_count() or 1 if num_parallel_reads == AUTOTUNE else
            _int_arg(num_parallel_reads, "num_parallel_reads"))
        self._spec = S.TensorSpec([], _dt.string)

    def _read_file(self, path):
        raise NotImplementedError

    def _iter(self):
        if self._readers <= 1 or len(self._files) <= 1:
            for path in self._files:
                yield from self._read_file(path)
            return
        # Round-robin over `num_parallel_reads` open files (interleave's order).
        pending = list(self._files)
        active = []
        while pending or active:
            while pending and len(active) < self._readers:
                active.append(self._read_file(pending.pop(0)))
            for it in list(active):
                try:
                    yield next(it)
                except StopIteration:
                    active.remove(it)


class TextLineDataset(_FileDataset):
    """Lines of text files as scalar strings, without the line ending.

    Args:
      filenames: a path, list of paths, string Tensor or Dataset of paths.
      compression_type: '', 'GZIP' or 'ZLIB'.
      buffer_size: accepted for compatibility.
      num_parallel_reads: files read interleaved (default: one after another).
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)

    def _read_file(self, path):
        with _tfr.open_read(path, self._compression) as f:
            for line in f:
                if line.endswith(b"\n"):
                    line = line[:-1]
                    if line.endswith(b"\r"):
                        line = line[:-1]
                yield _scalar_bytes(line)


class TFRecordDataset(_FileDataset):
    """Records of TFRecord files as scalar strings, with both CRCs checked.

    Args:
      filenames: a path, list of paths, string Tensor or Dataset of paths.
      compression_type: '', 'GZIP' or 'ZLIB'.
      buffer_size: accepted for compatibility.
      num_parallel_reads: files read interleaved (default: one after another).

    Raises (while iterating):
      DataLossError: a record with a bad CRC or a truncated record, naming the file and
        the record's byte offset.
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)

    def _read_file(self, path):
        for record in _tfr.read_records(path, self._compression):
            yield _scalar_bytes(record)


class FixedLengthRecordDataset(_FileDataset):
    """Fixed-size records of binary files (after ``header_bytes``, before ``footer_bytes``)."""

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None,
                 buffer_size=None, compression_type=None, num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)
        self._record = _int_arg(record_bytes, "record_bytes")
        if self._record <= 0:
            raise InvalidArgumentError(None, None, f"record_bytes must be positive, got "
                                       f"{self._record}")
        self._header = int(header_bytes or 0)
        self._footer = int(footer_bytes or 0)

    def _read_file(self, path):
        with _tfr.open_read(path, self._compression) as f:
            data = f.read()
        body = data[self._header:len(data) - self._footer]
        usable = len(body) - len(body) % self._record
        for start in range(0, usable, self._record):
            yield _scalar_bytes(body[start:start + self._record])


# ---------------------------------------------------------------- CSV
_NUMERIC = {"float32", "float64", "int32", "int64"}
_ALLOWED = "float32, float64, int32, int64 or string"


def _record_default(value, i):
    """(dtype, default array or None) for one entry of ``record_defaults``."""
    if isinstance(value, _dt.DType) or (isinstance(value, type) and not isinstance(
            value, (list, tuple))):
        dtype = _dt.as_dtype(value)
        if dtype.name not in _NUMERIC and dtype is not _dt.string:
            raise ValueError(f"record_defaults[{i}] has unsupported dtype "
                             f"{dtype.name}; expected {_ALLOWED}")
        return dtype, None
    arr = S.to_host_array(value)
    arr = arr.reshape(-1)
    dtype = _dt.from_numpy(arr.dtype)
    if dtype.name not in _NUMERIC and dtype is not _dt.string:
        raise InvalidArgumentError(None, None, f"record_defaults[{i}] has unsupported "
                                   f"dtype {dtype.name}; expected {_ALLOWED}")
    return dtype, (arr[0] if arr.size else None)


def _csv_rows(path, compression, header, delim, quote):
    """Field lists of a CSV file's records (TF's quoting rules), or the
    ``InvalidArgumentError`` of a malformed record in its place."""
    with _tfr.open_read(path, compression) as raw:
        text = _pyio.TextIOWrapper(raw, encoding="utf-8", newline="")
        for i, row in enumerate(split_lines(text, delim, quote)):
            if i == 0 and header:
                continue
            yield row


class CsvDataset(Dataset):
    """Rows of CSV files as tuples of scalars typed by ``record_defaults``.

    Args:
      filenames: paths of the files.
      record_defaults: per selected column, a dtype (a required column) or a default
        value (used for empty fields).
      header: skip each file's first line.
      field_delim, use_quote_delim, na_value, select_cols, exclude_cols: as TF.
    """

    def __init__(self, filenames, record_defaults, compression_type=None, buffer_size=None,
                 header=False, field_delim=",", use_quote_delim=True, na_value="",
                 select_cols=None, exclude_cols=None, name=None):
        super().__init__()
        if select_cols is not None and exclude_cols is not None:
            raise InvalidArgumentError(
                None, None, "Either select_cols or exclude_cols should be empty")
        self._files = _filenames(filenames)
        self._compression = _tfr.compression_name(compression_type)
        self._defaults = [_record_default(v, i) for i, v in enumerate(record_defaults)]
        self._header, self._delim, self._quote = bool(header), field_delim, use_quote_delim
        self._na = na_value
        self._select = None if select_cols is None else [int(c) for c in select_cols]
        self._exclude = None if exclude_cols is None else {int(c) for c in exclude_cols}
        check_delim(field_delim)
        if self._select is not None and any(
                b <= a for a, b in zip(self._select, self._select[1:])):
            raise InvalidArgumentError(
                None, None, "select_cols should be strictly increasing indices")
        if self._select is not None and len(self._select) != len(self._defaults):
            raise InvalidArgumentError(
                None, None, f"select_cols should match output size: got "
                f"{len(self._select)} select_cols for {len(self._defaults)} "
                f"record_defaults")
        self._spec = tuple(S.TensorSpec([], d) for d, _ in self._defaults)
        self._ignore_errors = False

    def _iter(self):
        return self._rows(self._ignore_errors, False)

    def _iter_ignoring_errors(self, log_warning):
        """``ignore_errors()``: a bad record is dropped and reading goes on."""
        return self._rows(True, log_warning)

    def _rows(self, ignore_errors, log_warning):
        rec = 0
        for path in self._files:
            for row in _csv_rows(path, self._compression, self._header, self._delim,
                                 self._quote):
                try:
                    if isinstance(row, InvalidArgumentError):
                        raise row
                    if self._select is not None:
                        cols = self._select
                    elif self._exclude is not None:
                        cols = [c for c in range(len(row)) if c not in self._exclude]
                    else:
                        cols = range(len(self._defaults))
                    if self._select is None and self._exclude is None and \
                            len(row) > len(cols):
                        raise InvalidArgumentError(
                            None, None, f"{path}: Expect {len(self._defaults)} fields "
                            f"but have more in record {rec}")
                    if len(cols) != len(self._defaults) or max(cols, default=-1) >= len(row):
                        raise InvalidArgumentError(
                            None, None, f"{path}: Expect {len(self._defaults)} fields "
                            f"but have {len(row)} in record {rec}")
                    values = tuple(
                        _as_array(convert_field(row[c], d, default, c, rec, self._na), d)
                        for c, (d, default) in zip(cols, self._defaults))
                except InvalidArgumentError as e:
                    if not ignore_errors:
                        raise
                    if log_warning:
                        print(f"Warning: ignoring error in the input pipeline: {e}")
                    continue
                finally:
                    rec += 1
                yield values


def _as_array(value, dtype):
    if dtype is _dt.string:
        return _scalar_bytes(value if isinstance(value, bytes) else bytes(value))
    return np.asarray(value, dtype=dtype._np)


def _infer_type(values, na_value):
    kinds = ("int32", "int64", "float32")
    best = 0
    seen = False
    for v in values:
        if v == "" or (na_value and v == na_value):
            continue
        seen = True
        while best < 3:
            try:
                if best < 2:
                    n = int(v)
                    if best == 0 and not -2**31 <= n < 2**31:
                        best = 1
                        continue
                else:
                    float(v)
                break
            except ValueError:
                best += 1
        if best == 3:
            return _dt.string
    if not seen:   # a column with no value in the sample stays a string (TF)
        return _dt.string
    return _dt.as_dtype(kinds[best]) if best < 3 else _dt.string


def make_csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None,
                     label_name=None, select_columns=None, field_delim=",",
                     use_quote_delim=True, na_value="", header=True, num_epochs=None,
                     shuffle=True, shuffle_buffer_size=10000, shuffle_seed=None,
                     prefetch_buffer_size=None, num_parallel_reads=None, sloppy=False,
                     num_rows_for_inference=100, compression_type=None, ignore_errors=False,
                     encoding="utf-8"):
    """Batches of ``(features, label)`` from CSV files, features an OrderedDict by column.

    Column names come from the header (or ``column_names``); column types are inferred
    from the first ``num_rows_for_inference`` rows (int32, int64, float32, else string)
    unless ``column_defaults`` gives them. ``num_epochs=None`` repeats forever, as TF.
    """
    patterns = [file_pattern] if isinstance(file_pattern, (str, os.PathLike)) else \
        list(file_pattern)
    # as TF: every pattern's matches, sorted; a file named twice is read twice
    files = sorted(m for p in patterns for m in glob.glob(os.fspath(p)))
    if not files:
        raise ValueError(f"No files match `file_pattern` {file_pattern!r}.")
    compression = _tfr.compression_name(compression_type)
    header_row, data_rows = None, []
    for path in files:
        # every file has its own header line: only data rows type the columns
        for i, row in enumerate(_csv_rows(path, compression, False, field_delim,
                                          use_quote_delim)):
            if isinstance(row, InvalidArgumentError):
                if header and i == 0:
                    raise row
                # TF infers from the rows it can read; the reader raises (or, with
                # ignore_errors, drops) the bad record when the dataset reaches it
                continue
            if header and i == 0:
                header_row = header_row or row
                continue
            data_rows.append((i + 1, row))   # the file's line number, as TF counts
            if len(data_rows) >= num_rows_for_inference:
                break
        if len(data_rows) >= num_rows_for_inference:
            break
    if column_names is None:
        if not header:
            raise ValueError("Cannot infer column names without a header line; pass "
                             "`column_names`.")
        column_names = header_row
    column_names = list(column_names)
    if len(set(column_names)) != len(column_names):
        raise ValueError(f"Column names must be unique, got {column_names}")
    if select_columns is not None:
        # TF reads the selected columns in file order, whatever order they are named
        select = sorted({_column_index(c, column_names) for c in select_columns})
    elif column_defaults is not None:
        # as TF: the names pair with the defaults (the shorter list decides), and rows
        # of another length fail as they are read
        select = list(range(min(len(column_names), len(column_defaults))))
    else:
        select = list(range(len(column_names)))
    selected = [column_names[c] for c in select]
    if label_name is not None and label_name not in selected:
        # as TF, the label must be one of the columns read (the selected ones)
        raise ValueError(f"`label_name` provided must be one of the columns: "
                         f"{selected}. Received: label_name={label_name!r}.")
    if column_defaults is None:
        for number, row in data_rows:
            if len(row) != len(column_names):
                fields = 0 if row == [""] else len(row)   # a blank line: no fields
                raise ValueError(f"Problem inferring types: CSV row {number} has "
                                 f"{fields} number of fields. Expected: "
                                 f"{len(column_names)}.")
        data_rows = [row for _, row in data_rows]
        defaults = [_infer_type([r[c] for r in data_rows if c < len(r)], na_value)
                    for c in select]
        defaults = [d if d is _dt.string else _zero(d) for d in defaults]
        defaults = [b"" if d is _dt.string else d for d in defaults]
    else:
        defaults = list(column_defaults)
        if select_columns is not None and len(defaults) != len(select):
            raise ValueError(
                "If specified, `column_defaults` and `select_columns` must have the "
                f"same length: `column_defaults` has length {len(defaults)}, "
                f"`select_columns` has length {len(select)}.")
    names = [column_names[c] for c in select]
    ds = CsvDataset(files, defaults, compression_type=compression, header=header,
                    field_delim=field_delim, use_quote_delim=use_quote_delim,
                    na_value=na_value,
                    select_cols=None if select_columns is None else select)
    ds._ignore_errors = bool(ignore_errors)
    if num_epochs is None:
        ds = ds.repeat()
    elif num_epochs != 1:
        ds = ds.repeat(num_epochs)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    # repeated forever every batch is full, so TF drops the (never reached) remainder
    ds = ds.batch(batch_size, drop_remainder=num_epochs is None)

    def to_features(*columns):
        features = collections.OrderedDict(zip(names, columns))
        if label_name is None:
            return features
        label = features.pop(label_name)
        return features, label

    ds = ds.map(to_features)
    return ds.prefetch(AUTOTUNE if prefetch_buffer_size is None else prefetch_buffer_size)


def _column_index(column, column_names):
    if isinstance(column, str):
        if column not in column_names:
            raise ValueError(f"Column {column!r} in `select_columns` is not one of the "
                             f"columns: {column_names}.")
        return column_names.index(column)
    index = int(column)
    if not 0 <= index < len(column_names):
        raise ValueError(f"Column index {column} in `select_columns` is out of range "
                         f"for {len(column_names)} columns.")
    return index


def _zero(dtype):
    return np.zeros((), dtype=dtype._np)

