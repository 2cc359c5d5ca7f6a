"""``astroclean evaluate sources``: the compact-source removal benchmark."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from astroclean.cli.inputs import say as _say
from astroclean.errors import AstrocleanValueError

SOURCES_DOC = """Compact-source removal benchmark: flux ratios per level, background power spectra, pixel statistics in
the holes, gamma Dra against its calibration, throughput; PASS/FAIL per target.

    astroclean evaluate sources -o bench_sources/                     # pacs-blue on 48 held-out maps (--n-maps)
    astroclean evaluate sources --quick -o smoke/                     # 2 maps, 2 sources per level
    astroclean evaluate sources -o docs/sources_benchmark --docs docs/sources_benchmark.md --overwrite

Writes table.md, sources/levels/spectra/pixels/gamma_dra.ecsv, flux_ratio.png, power_spectra.png and
example_cutout.png (never over existing files without --overwrite). Exit code 1 when a target fails.
gamma Dra needs the real-data folder (--data-dir or $ASTROCLEAN_DATA_DIR) and is skipped
with a note without it.
"""


def add_evaluate_parser(sub):
    """Add ``astroclean evaluate sources`` to the ``evaluate`` subparsers ``sub``."""
    s = sub.add_parser("sources", help="compact-source removal benchmark", description=SOURCES_DOC,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    s.add_argument("--model", default="pacs-blue", help="compact-source model (default pacs-blue)")
    s.add_argument("--untrained", action="store_true",
                   help="allow an architecture without weights (e.g. pconv-unet): plumbing test only")
    s.add_argument("--band", default="blue", choices=["blue", "green", "red"], help="PACS band (default blue)")
    s.add_argument("--mode", default="scan", choices=["scan", "chopnod"], help="observing mode (default scan)")
    s.add_argument("--n-maps", type=int, default=48,
                   help="held-out maps (default 48: each background 8 times, ~216 sources per level)")
    s.add_argument("--per-level", type=int, default=6, help="sources per flux level per map (default 6)")
    s.add_argument("--quick", action="store_true", help="2 maps, 2 sources per level: a smoke test")
    s.add_argument("--snr-limit", type=float, default=5.0, help="detection limit on the injected S/N (default 5)")
    s.add_argument("--seed", type=int, default=0, help="seed of the injection (default 0)")
    s.add_argument("--device", default=None, help="torch device (default: CUDA when available, else CPU)")
    s.add_argument("--batch-size", type=int, default=64, help="cutouts per network call (default 64)")
    s.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads: 1 (default) avoids oversubscription on a shared machine (2 threads "
                        "against other work measured 7x slower here); 0 = library default")
    s.add_argument("--data-dir", default=None, help="real-data folder for gamma Dra")
    s.add_argument("--docs", default=None, help="also put the report into this docs page, between its markers")
    s.add_argument("--overwrite", action="store_true", help="replace existing output files")
    s.set_defaults(func=run_sources)
    return s


def run_sources(args) -> int:
    """Run the compact-source benchmark and write its report; 1 when a target fails, else 0."""
    from astroclean.evaluate.docs import check_docs_page, update_docs_page
    from astroclean.sources.evaluate.benchmark import sources_benchmark
    from astroclean.sources.evaluate.report import REPORT_FILES, write_sources_report
    from astroclean.io.write import check_writable

    outdir = Path(args.output)
    if args.docs:  # fail before the long run, not after it
        check_docs_page(args.docs)
    if outdir.is_dir():
        for name in REPORT_FILES:
            check_writable(outdir / name, overwrite=args.overwrite)
    if args.n_maps < 1 or args.per_level < 1:
        raise AstrocleanValueError(f"--n-maps and --per-level must be >= 1, got {args.n_maps} and {args.per_level}")
    if args.threads < 0:
        raise AstrocleanValueError(f"--threads must be >= 0 (0 = library default), got {args.threads}")
    if args.threads:
        from astroclean.inference.device import set_threads

        set_threads(args.threads)
    n_maps, per_level = (2, 2) if args.quick else (args.n_maps, args.per_level)
    start = time.perf_counter()
    bench = sources_benchmark(model=args.model, band=args.band, mode=args.mode, n_maps=n_maps, per_level=per_level,
                              rng=args.seed, device=args.device, batch_size=args.batch_size,
                              snr_limit=args.snr_limit, data_dir=args.data_dir, allow_untrained=args.untrained,
                              log=_say)
    command = "astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["evaluate"] \
        else None
    written = write_sources_report(bench, outdir, overwrite=args.overwrite, command=command)
    _say(f"done in {time.perf_counter() - start:.0f} s; wrote {', '.join(sorted(written))} to {outdir}")
    if args.docs:
        _say(f"updated {update_docs_page(args.docs, outdir, plots=())}")
    for t in bench.targets:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[t["passed"]]
        print(f"{verdict}  {t['name']}: {t['value']} (goal {t['goal']})")
    return 1 if any(t["passed"] is False for t in bench.targets) else 0
