"""``tf.print`` destinations as TF 2.21 takes them: ``file://<path>`` (appended to,
also from a traced function), the v1 logging functions, and a clear ValueError for
anything else (a StringIO used to go to stderr silently)."""

import io
import logging

import pytest

import dlframe as tf


def test_print_to_a_file_appends_each_run(tmp_path):
    path = tmp_path / "log.txt"

    @tf.function
    def f(x):
        tf.print("to file", x, output_stream=f"file://{path}")
        tf.print("again", x * 2, output_stream=f"file://{path}")
        return x

    f(tf.constant([1, 2]))
    f(tf.constant([3, 4]))
    assert path.read_text() == ("to file [1 2]\nagain [2 4]\n"
                                "to file [3 4]\nagain [6 8]\n")


def test_print_to_v1_logging_levels(caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        tf.print("note", tf.constant(3), output_stream=tf.compat.v1.logging.info)
        tf.print("careful", output_stream=tf.compat.v1.logging.warning)
    got = [(r.levelno, r.getMessage()) for r in caplog.records
           if r.name == "tensorflow"]
    assert got == [(logging.INFO, "note 3"), (logging.WARNING, "careful")]


@pytest.mark.parametrize("stream", [io.StringIO(), logging.info, 3])
def test_unsupported_streams_raise(stream):
    with pytest.raises(ValueError, match="Unsupported output stream, logging level, "
                                         "or file"):
        tf.print("x", output_stream=stream)


def test_stdout_and_stderr(capsys):
    tf.print("out", tf.constant(1.5), output_stream=__import__("sys").stdout)
    tf.print("err", sep="|")
    captured = capsys.readouterr()
    assert captured.out == "out 1.5\n" and captured.err == "err\n"
