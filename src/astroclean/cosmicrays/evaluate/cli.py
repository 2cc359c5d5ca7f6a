"""``astroclean evaluate cosmic``: benchmark detectors side by side, or self-test a model on your frames.

    astroclean evaluate cosmic --benchmark default -o bench/        # ours + every peer installed
    astroclean evaluate cosmic --quick -o smoke/                    # 3 tiny cases: a smoke test
    astroclean evaluate cosmic --methods astroscrappy,deepcr:decam -o bench/
    astroclean evaluate cosmic --images my_frames/ --inject --model ground --target-fdr 0.01 -o out/
    astroclean evaluate cosmic -o docs/benchmark --docs docs/benchmark.md --overwrite   # refresh the docs

The benchmark writes table.md/.ecsv, timing.md/.ecsv, roc.png, pr.png,
star_regions.*, photometry.* and density.* into the output folder (never
over existing files without --overwrite). Methods that are not installed
are listed as skipped with the reason; a method that crashes is marked
failed and the rest completes (exit code 1). ``--benchmark`` takes a recipe
name or a set saved with ``--save-set``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from astroclean.cli.inputs import say as _say
from astroclean.errors import AstrocleanValueError


def add_evaluate_parser(sub):
    """Add ``astroclean evaluate cosmic`` to the ``evaluate`` subparsers ``sub``."""
    c = sub.add_parser("cosmic", aliases=["cosmic-rays"], help="cosmic-ray benchmark or self-test", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    c.add_argument("--benchmark", default="default",
                   help="benchmark recipe (default, quick) or a .npz set saved with --save-set (default: default)")
    c.add_argument("--quick", action="store_true", help="the tiny 'quick' set, short sweeps, a tiny density sweep")
    c.add_argument("--methods", default=None,
                   help="comma-separated methods (default: astroclean:auto and every registered peer); "
                        "names: astroscrappy, astroscrappy:sigclip3, lacosmic, deepcr:ACS-WFC, deepcr:decam, "
                        "cosmic-conn:ground_imaging, cosmic-conn:HST_ACS_WFC, astroclean:<model>")
    c.add_argument("--analyses", default="stars,photometry,density,saturated",
                   help="extra analyses, comma-separated, or 'none' (default: stars,photometry,density,saturated)")
    c.add_argument("--truth", default="core", choices=["core", "footprint"],
                   help="cosmic-ray pixels = injected charge >= --min-snr x noise (core, default; the rest of the "
                        "footprint is ignored) or the whole 3x3-dilated footprint")
    c.add_argument("--min-snr", type=float, default=1.5, help="lowest injected pixel S/N counted (default 1.5)")
    c.add_argument("--n-boot", type=int, default=None, help="bootstrap replicates (default 200; --quick 50)")
    c.add_argument("--seed", type=int, default=0, help="seed of the bootstrap, density sweep and self-test")
    c.add_argument("--docs", default=None,
                   help="also put the report into this docs page, between its benchmark-report markers")
    c.add_argument("--save-set", default=None, help="also save the benchmark set (truth included) to this .npz")
    c.add_argument("--images", nargs="+", default=None, help="self-test: your FITS files, folders or quoted globs")
    c.add_argument("--inject", action="store_true", help="self-test: inject library cosmic rays into --images")
    c.add_argument("--model", default="ground", help="self-test: model to test (default ground)")
    c.add_argument("--untrained", action="store_true",
                   help="self-test: allow a model without trained weights (plumbing tests only)")
    c.add_argument("--threshold", type=float, default=None, help="self-test: threshold (default: the card's)")
    c.add_argument("--target-fdr", type=float, default=0.01, help="self-test: FDR to find a threshold for")
    c.add_argument("--density", type=float, default=0.005, help="self-test: injected pixel fraction")
    c.add_argument("--threads", type=int, default=1,
                   help="threads per method (torch, and OpenMP via OMP_NUM_THREADS for methods imported later): "
                        "1 (default) gives fair timings and no oversubscription on a shared machine; 0 = library "
                        "defaults")
    c.add_argument("--overwrite", action="store_true", help="replace existing output files")
    c.set_defaults(func=run)
    return c


#: --quick: shorter sweeps so the smoke test takes seconds.
QUICK_OPTIONS = {"astroscrappy": {"sweep": (1.0, 2.0, 3.0, 4.5, 6.0, 10.0, 20.0)},
                 "astroscrappy:sigclip3": {"sweep": (1.0, 2.0, 3.0, 4.5, 6.0, 10.0, 20.0)},
                 "lacosmic": {"sweep": (2.0, 4.5, 10.0)}}
QUICK_DENSITY = {"backgrounds": ["ground"], "max_size": 96, "densities": (0.005, 0.05)}


def _load_cases(args):
    from astroclean.cosmicrays.evaluate.benchmark_set import RECIPES, build_benchmark_set, load_benchmark_set, save_benchmark_set

    name = "quick" if args.quick else args.benchmark
    if name in RECIPES:
        cases = build_benchmark_set(name)
    elif Path(name).suffix == ".npz":
        cases = load_benchmark_set(name)
    else:
        raise AstrocleanValueError(f"--benchmark must be a recipe ({', '.join(RECIPES)}) or a saved .npz set, "
                                   f"got {name!r}")
    if args.save_set:
        save_benchmark_set(cases, args.save_set, overwrite=args.overwrite)
        _say(f"saved the benchmark set to {args.save_set}")
    return cases


def _run_benchmark(args) -> int:
    from astroclean.cosmicrays.evaluate.harness import default_methods, run_benchmark
    from astroclean.cosmicrays.evaluate.report import ANALYSES, PLOTS, write_report
    from astroclean.evaluate.docs import check_docs_page, update_docs_page
    from astroclean.io.write import check_writable

    analyses = [] if args.analyses.strip().lower() in ("", "none") else [a.strip() for a in args.analyses.split(",")]
    unknown = set(analyses) - set(ANALYSES)
    if unknown:
        raise AstrocleanValueError(f"unknown analyses {sorted(unknown)}; choose from {', '.join(ANALYSES)} or none")
    outdir = Path(args.output)
    if args.docs:  # fail before the long run, not after it
        check_docs_page(args.docs)
    if outdir.is_dir() and not args.overwrite:
        check_writable(outdir / "table.md", overwrite=False)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else default_methods()
    cases = _load_cases(args)
    _say(f"benchmark: {len(cases)} cases, {sum(c.image.size for c in cases) / 1e6:.2f} Mpx, "
         f"{len(methods)} methods")
    start = time.perf_counter()
    results = run_benchmark(cases, methods, rng=args.seed, log=_say, truth=args.truth, min_snr=args.min_snr,
                            threads=args.threads or None, n_boot=args.n_boot or (50 if args.quick else 200),
                            options=QUICK_OPTIONS if args.quick else None)
    command = "astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["evaluate"] \
        else None
    written = write_report(results, outdir, overwrite=args.overwrite, analyses=analyses, command=command, log=_say,
                           density_options=dict(QUICK_DENSITY, rng=args.seed) if args.quick else {"rng": args.seed})
    _say(f"done in {time.perf_counter() - start:.0f} s; wrote {', '.join(sorted(written))} to {outdir}")
    if args.docs:
        _say(f"updated {update_docs_page(args.docs, outdir, plots=PLOTS)}")
    print((outdir / "table.md").read_text())
    failed = [r for r in results.runs.values() if r.status == "failed"]
    return 1 if failed else 0


def _run_selftest(args) -> int:
    from astroclean.cosmicrays.evaluate.selftest import run_selftest
    from astroclean.io.write import atomic_write, check_writable
    from astroclean.cli.inputs import expand_inputs

    if not args.inject:
        raise AstrocleanValueError("--images needs --inject (the self-test injects library cosmic rays into them)")
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    targets = {name: outdir / name for name in ("selftest.ecsv", "selftest.png", "selftest.txt")}
    for path in targets.values():
        check_writable(path, overwrite=args.overwrite)
    files = [str(p) for p in expand_inputs(args.images)]
    model = args.model
    if args.untrained:
        from astroclean.cosmicrays import CosmicRayDetector

        model = CosmicRayDetector(args.model, allow_untrained=True)
    result = run_selftest(files, model=model, threshold=args.threshold, target_fdr=args.target_fdr,
                          density=args.density, rng=args.seed)
    text = result.summary()
    atomic_write(targets["selftest.ecsv"], lambda tmp: result.table().write(tmp, format="ascii.ecsv",
                                                                            overwrite=True), overwrite=args.overwrite)
    atomic_write(targets["selftest.png"], result.plot, overwrite=args.overwrite)
    atomic_write(targets["selftest.txt"], lambda tmp: Path(tmp).write_text(text + "\n"), overwrite=args.overwrite)
    print(text)
    return 0


def _limit_threads(threads):
    """OMP_NUM_THREADS for OpenMP libraries not loaded yet (astroscrappy reads it on first import)."""
    if threads < 0:
        raise AstrocleanValueError(f"--threads must be >= 0 (0 = library defaults), got {threads}")
    if threads:
        from astroclean.inference.device import limit_openmp_threads

        late = limit_openmp_threads(threads)
        if late:
            _say(f"note: {', '.join(late)} already imported; --threads applies to torch only")


def run(args) -> int:
    """Run the benchmark, or the self-test when ``--images`` is given; returns the exit code."""
    _limit_threads(args.threads)
    if args.images or args.inject:
        if not args.images:
            raise AstrocleanValueError("--inject needs --images (your FITS files or folders)")
        return _run_selftest(args)
    return _run_benchmark(args)
