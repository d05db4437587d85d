"""``tf.compat.v1.flags``, ``app`` and ``gfile``: TF1's script scaffolding.

``flags`` is an absl-like command-line flag registry built on argparse (absl is not
required): ``DEFINE_*`` registers, ``FLAGS.name`` reads, parsing ``sys.argv`` on
first access as TF's wrapper does. ``app.run(main)`` parses the flags and calls
``main(argv)`` with the arguments left. ``gfile`` holds TF1's names of
``tf.io.gfile``.
"""

import argparse
import sys
from types import SimpleNamespace

import dlframe as _tf


class UnrecognizedFlagError(ValueError):
    """An argument looked like a flag that was never defined."""


class IllegalFlagValueError(ValueError):
    """A flag's value could not be parsed."""


def _parse_bool(text):
    value = str(text).lower()
    if value in ("true", "t", "1", "yes", "y"):
        return True
    if value in ("false", "f", "0", "no", "n"):
        return False
    raise IllegalFlagValueError(f"Non-boolean argument to boolean flag: {text!r}")


class _Flag:
    def __init__(self, name, default, help, parser, kind):
        self.name, self.default, self.help = name, default, help
        self.parser, self.kind = parser, kind
        # string defaults are parsed like command-line text ('a,b' for a list)
        self.value = parser(default) if isinstance(default, str) else default
        self.present = False


class FlagValues:
    """The flag registry: ``FLAGS.name`` is the parsed value of flag ``name``."""

    def __init__(self):
        self.__dict__["_flags"] = {}
        self.__dict__["_parsed"] = False

    def _define(self, name, default, help, parser, kind="value"):
        if name in self._flags:
            raise ValueError(f"The flag '{name}' is defined twice.")
        self._flags[name] = _Flag(name, default, help, parser, kind)

    def __call__(self, argv, known_only=False):
        """Parses ``argv`` (``argv[0]`` is the program); returns the rest."""
        parser = argparse.ArgumentParser(prog=argv[0] if argv else None,
                                         add_help=False, allow_abbrev=False)
        for flag in self._flags.values():
            if flag.kind == "bool":
                parser.add_argument(f"--{flag.name}", nargs="?", const="true",
                                    dest=flag.name, default=None)
                parser.add_argument(f"--no{flag.name}", action="store_const",
                                    const="false", dest=flag.name)
            else:
                parser.add_argument(f"--{flag.name}", dest=flag.name, default=None)
        namespace, rest = parser.parse_known_args(list(argv[1:]))
        unknown = [a for a in rest if a.startswith("--") and a != "--"]
        if unknown and not known_only:
            raise UnrecognizedFlagError(f"Unknown command line flag "
                                        f"'{unknown[0][2:].split('=')[0]}'")
        for name, text in vars(namespace).items():
            if text is not None:
                flag = self._flags[name]
                try:
                    flag.value = flag.parser(text)
                except IllegalFlagValueError:
                    raise
                except ValueError as e:
                    raise IllegalFlagValueError(
                        f"flag --{name}={text}: {e}") from None
                flag.present = True
        self.__dict__["_parsed"] = True
        return argv[:1] + [a for a in rest if a not in unknown]

    def is_parsed(self):
        return self._parsed

    def mark_as_parsed(self):
        self.__dict__["_parsed"] = True

    def __getattr__(self, name):
        flags = self.__dict__["_flags"]
        if name not in flags:
            raise AttributeError(name)
        if not self._parsed:
            self(sys.argv, known_only=True)
        return flags[name].value

    def __setattr__(self, name, value):
        if name not in self._flags:
            raise AttributeError(f"No flag named {name!r}")
        self._flags[name].value = value

    def __contains__(self, name):
        return name in self._flags

    def __iter__(self):
        return iter(self._flags)

    def flag_values_dict(self):
        """``{name: value}`` of every flag."""
        return {name: flag.value for name, flag in self._flags.items()}

    def unparse_flags(self):
        for flag in self._flags.values():
            flag.value, flag.present = flag.default, False
        self.__dict__["_parsed"] = False


FLAGS = FlagValues()


def DEFINE_string(name, default, help, flag_values=FLAGS, **kwargs):
    """Defines a string flag."""
    flag_values._define(name, default, help, str)


def DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None,
                   flag_values=FLAGS, **kwargs):
    """Defines an integer flag (optionally bounded)."""
    def parse(text):
        value = int(text)
        if (lower_bound is not None and value < lower_bound) or (
                upper_bound is not None and value > upper_bound):
            raise IllegalFlagValueError(f"flag --{name}={value}: out of bounds "
                                        f"[{lower_bound}, {upper_bound}]")
        return value
    flag_values._define(name, default, help, parse)


def DEFINE_float(name, default, help, lower_bound=None, upper_bound=None,
                 flag_values=FLAGS, **kwargs):
    """Defines a float flag."""
    flag_values._define(name, default, help, float)


def DEFINE_boolean(name, default, help, flag_values=FLAGS, **kwargs):
    """Defines a boolean flag (``--name``, ``--noname``, ``--name=false``)."""
    flag_values._define(name, default, help, _parse_bool, kind="bool")


DEFINE_bool = DEFINE_boolean


def DEFINE_enum(name, default, enum_values, help, flag_values=FLAGS,
                **kwargs):
    """Defines a string flag restricted to ``enum_values``."""
    def parse(text):
        if text not in enum_values:
            raise IllegalFlagValueError(f"flag --{name}={text}: value should be one "
                                        f"of <{'|'.join(enum_values)}>")
        return text
    flag_values._define(name, default, help, parse)


def DEFINE_list(name, default, help, flag_values=FLAGS, **kwargs):
    """Defines a comma-separated list-of-strings flag."""
    def parse(text):
        if isinstance(text, (list, tuple)):
            return list(text)
        return [s.strip() for s in text.split(",") if s.strip()]
    flag_values._define(name, default, help, parse, kind="list")


flags = SimpleNamespace(
    FLAGS=FLAGS, FlagValues=FlagValues, DEFINE_string=DEFINE_string,
    DEFINE_integer=DEFINE_integer, DEFINE_float=DEFINE_float,
    DEFINE_boolean=DEFINE_boolean, DEFINE_bool=DEFINE_bool, DEFINE_enum=DEFINE_enum,
    DEFINE_list=DEFINE_list, UnrecognizedFlagError=UnrecognizedFlagError,
    IllegalFlagValueError=IllegalFlagValueError)


def _run(main=None, argv=None):
    """Parses flags from ``argv`` (default ``sys.argv``), then
    ``sys.exit(main(remaining argv))`` (``main`` default: ``__main__.main``)."""
    if main is None:
        main = sys.modules["__main__"].main
    rest = FLAGS(sys.argv if argv is None else argv)
    sys.exit(main(rest))


app = SimpleNamespace(run=_run, flags=flags)

_gfile = _tf.io.gfile
gfile = SimpleNamespace(
    GFile=_gfile.GFile, Open=_gfile.GFile, FastGFile=_gfile.GFile,
    Exists=_gfile.exists, MakeDirs=_gfile.makedirs, MkDir=_gfile.mkdir,
    Glob=_gfile.glob, ListDirectory=_gfile.listdir, Remove=_gfile.remove,
    IsDirectory=_gfile.isdir, Copy=_gfile.copy, Rename=_gfile.rename,
    DeleteRecursively=_gfile.rmtree, Stat=_gfile.stat, Walk=_gfile.walk)

__all__ = ["app", "flags", "gfile"]
