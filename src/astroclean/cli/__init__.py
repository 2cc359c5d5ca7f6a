"""The ``astroclean`` command: thin, it only parses and calls the library.

    astroclean cosmic exposure.fits -o out/
    astroclean sources map.fits --detect 5 -o out/
    astroclean models
    astroclean simulate cosmic-rays --flavour ground -o set.npz
    astroclean train cosmic-rays --flavour ground --name ground
    astroclean evaluate cosmic-rays --benchmark default -o bench/
"""

from __future__ import annotations

import argparse
import sys

from ..errors import AstrocleanError
from . import cosmic, models, sources


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="astroclean", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"astroclean {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (cosmic, sources, models):
        module.add_parser(sub)
    for name in ("simulate", "train", "evaluate"):
        try:
            module = __import__(f"astroclean.cli.{name}", fromlist=["add_parser"])
        except ImportError:
            continue
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 some inputs failed, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AstrocleanError as exc:
        print(f"astroclean: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("astroclean: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
