#!/usr/bin/env python3
"""Bitwuzla as an SMT-LIB2 command-line solver, for halmos's --solver-command.

Usage: bitwuzla_smt2.py [halmos's solver arguments...] FILE.smt2

PyPI's `bitwuzla` ships the Python bindings, not the `bitwuzla` binary that halmos would otherwise
download (which this machine cannot do). The bindings' SMT-LIB2 parser runs the file's commands and
prints what the binary prints (`sat`/`unsat`, then the model), which halmos reads from stdout.
Bitwuzla decides the 256-bit division and multiplication-overflow queries of the slot/epoch
arithmetic in seconds where z3 and yices take minutes.
"""

import sys

import bitwuzla


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    options = bitwuzla.Options()
    options.set(bitwuzla.Option.PRODUCE_MODELS, True)
    parser = bitwuzla.Parser(bitwuzla.TermManager(), options)
    parser.parse(argv[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
