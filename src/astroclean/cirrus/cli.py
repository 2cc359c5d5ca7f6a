"""Command line of the cirrus task (thin: parse, call the library, print a summary).

    astroclean cirrus field_g.fits field_r.fits field_i.fits -o out/
    astroclean cirrus 'stripe82/*_[gri].fits' -o out/ --workers 2      # many fields (astroclean.batch)
    astroclean cirrus cube.fits -o out/ --zeropoint 22.5
    astroclean cirrus field_g.fits field_r.fits field_i.fits -o out/ --catalog   # + filaments and colours
    astroclean simulate cirrus --frame sdss --split benchmark --seed 1 -o mock.fits
    astroclean train cirrus segment --name cirrus-gri --minutes 25
    astroclean evaluate cirrus -o bench/

A field is its first band's file with the others named alike (g -> r, i or r, z), or one cube.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["add_arguments", "batch_spec", "add_simulate_parser", "add_train_parser", "add_evaluate_parser", "main"]


def add_arguments(p) -> None:
    """The options of ``astroclean cirrus`` (inputs, -o, --overwrite, --device and the batch options come from the CLI)."""
    p.add_argument("--model", default="cirrus-gri", help="cirrus model (see `astroclean models --task cirrus`)")
    p.add_argument("--masker", default="cirrus-mask-gri", help="'cirrus-mask-gri' (learned) or 'classical'")
    p.add_argument("--zeropoint", type=float, nargs="+", default=None,
                   help="AB magnitude of one data unit (one, or one per band); default from the headers")
    p.add_argument("--pixel-scale", type=float, default=None, help="arcsec/px; default from the WCS")
    p.add_argument("--threshold", type=float, default=None, help="cirrus probability threshold (default: the card's)")
    p.add_argument("--star-limit", type=float, default=1000.0, help="peak SNR of stars to model (<= 0: no star step)")
    p.add_argument("--single-band", action="store_true", help="one band per field, copied into the three channels")
    p.add_argument("--subtract-sky", action="store_true", help="subtract a global clipped median per band first")
    p.add_argument("--no-png", action="store_true", help="no quick-look PNG")
    p.add_argument("--catalog", action="store_true",
                   help="also catalogue the filaments with their colours (<stem>_filaments.ecsv, _segments.fits, plots)")
    p.add_argument("--bin-arcsec", type=float, default=6.0, help="filament rebinning scale in arcsec (default 6)")
    p.add_argument("--weights-dir", default=None, help="folder with the models' cards and weights (default: shipped)")


def batch_spec(args):
    """The batch spec of ``astroclean cirrus`` from parsed ``args``."""
    from astroclean.cirrus.batch import CirrusBatch

    return CirrusBatch(model=args.model, masker=args.masker, threshold=args.threshold,
                       star_limit=args.star_limit if args.star_limit and args.star_limit > 0 else None,
                       zeropoint=None if args.zeropoint is None else tuple(args.zeropoint),
                       pixel_scale=args.pixel_scale, single_band=args.single_band, subtract_sky=args.subtract_sky,
                       png=not args.no_png, device=args.device, weights_dir=args.weights_dir,
                       catalog=args.catalog, bin_arcsec=args.bin_arcsec)


def add_simulate_parser(tasks):
    """Add ``astroclean simulate cirrus`` (mock cirrus in real frames) and ``simulate cirrus-squares`` (issue 12)."""
    from astroclean.cirrus.simulate.squares import add_parser as add_squares

    add_squares(tasks)
    p = tasks.add_parser("cirrus", help="real optical frame + mock cirrus (FITS: IMAGE cube, TRUTH, SB_R)")
    p.add_argument("--frame", default="sdss", choices=["sdss", "legacy", "des"])
    p.add_argument("--split", default="benchmark", choices=["train", "benchmark", "all"])
    p.add_argument("--setting", default="train", choices=["train", "unseen", "unseen-steep"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run_simulate)
    return p


def add_train_parser(tasks):
    """Add ``astroclean train cirrus {segment,mask,calibrate}``."""
    from astroclean.cirrus.train import add_train_arguments

    p = tasks.add_parser("cirrus", help="train the cirrus segmenter or the source masker on mock cirrus")
    add_train_arguments(p)
    p.set_defaults(func=run_train)
    return p


def run_train(args) -> int:
    import shlex

    from astroclean.cirrus.train import run

    return run(args, command="astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]))


def add_evaluate_parser(sub):
    """Add ``astroclean evaluate cirrus`` (segmentation benchmark) and ``evaluate cirrus-colours`` (issue 12)."""
    from astroclean.cirrus.evaluate.colours import add_parser as add_colours

    add_colours(sub)
    p = sub.add_parser("cirrus", help="cirrus benchmark (held-out mocks, baselines, masking, speed)")
    p.add_argument("-o", "--outdir", required=True)
    p.add_argument("--n-per-frame", type=int, default=16)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--extra-model", action="append", default=[], help="also score this cirrus model")
    p.add_argument("--time-side", type=int, default=4553, help="side of the timed field (0: no timing)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--cache-dir", default=None, help="keep the simulated benchmark cases here between runs")
    p.add_argument("--no-stars", action="store_true", help="skip the bright-star gradient measurement")
    p.add_argument("--update-cards", action="store_true", help="write the measured numbers into the model cards")
    p.add_argument("--models-only", action="store_true",
                   help="score cirrus-gri and the --extra-model ones only (learned mask), into OUTDIR/cirrus_models.md")
    p.add_argument("--timing-only", action="store_true",
                   help="re-measure the speed and the star gradients; the other tables come from OUTDIR/cirrus_benchmark.json")
    p.set_defaults(func=run_evaluate)
    return p


def run_simulate(args) -> int:
    import numpy as np
    from astropy.io import fits

    from astroclean.io.write import write_fits
    from astroclean.cirrus.simulate.backgrounds import load_frames
    from astroclean.cirrus.simulate.cases import _prepare
    from astroclean.cirrus.simulate.fields import TRAIN_SETTING, UNSEEN_SETTING, UNSEEN_STEEP
    from astroclean.cirrus.simulate.inject import inject_cirrus
    from astroclean.cirrus.preprocess import unbin

    name = {"sdss": "SDSS", "legacy": "LegacySurvey", "des": "DES"}[args.frame]
    setting = {"train": TRAIN_SETTING, "unseen": UNSEEN_SETTING, "unseen-steep": UNSEEN_STEEP}[args.setting]
    frame, = load_frames(split=args.split, data_dir_path=args.data_dir, instruments=(name,))
    prep = _prepare(frame)
    image, mock = inject_cirrus(frame, rng=np.random.default_rng(args.seed), setting=setting, zeropoint=prep["zp"])
    src = unbin(prep["ref"], prep["k"], image.shape[1:])
    truth = (mock.sb_r <= prep["depth"]) & ~src
    h = fits.Header()
    h["BANDS"] = ",".join(frame.bands)
    h["BANDMAP"] = frame.band_map
    h["MAGZERO"] = prep["zp"]
    h["PIXSCALE"] = frame.pixel_scale
    h["DEPTHR"] = (round(prep["depth"], 3), "r 3-sigma 10x10 arcsec depth, mag/arcsec2")
    for k, v in mock.params.items():
        h[("P_" + k.upper())[:8]] = str(v)[:60]
    provenance = dict(task="simulate-cirrus", frame=frame.name, setting=setting.name, seed=args.seed)
    path = write_fits(args.output, [("IMAGE", image, h), ("TRUTH", truth.astype(np.uint8), h),
                                    ("SB_R", mock.sb_r, h), ("MOCK", mock.flux, h), ("SRCTRUTH", src.astype(np.uint8), h)],
                      provenance=provenance, overwrite=args.overwrite)
    print(f"wrote {path}: {frame.name}, setting {setting.name}, peak {mock.params['mu_peak']:.2f} mag/arcsec2, "
          f"depth {prep['depth']:.2f}, cirrus truth {truth.mean():.1%} of the pixels")
    return 0


def run_evaluate(args) -> int:
    import warnings

    warnings.filterwarnings("ignore", module="astropy")
    from astroclean.cirrus.evaluate.benchmark import build_set, report, run_benchmark, summarise, time_field
    from astroclean.cirrus.evaluate.stars import star_gradients
    from astroclean.cirrus.simulate.backgrounds import load_frames

    command = f"astroclean evaluate cirrus -o {args.outdir} --n-per-frame {args.n_per_frame} --seed {args.seed} --threads {args.threads}" + "".join(f" --extra-model {m}" for m in args.extra_model)
    if args.timing_only:
        import json

        old = json.loads((Path(args.outdir) / "cirrus_benchmark.json").read_text())
        star_rows = None if args.no_stars else star_gradients(
            load_frames(split="all", data_dir_path=args.data_dir, instruments=("LegacySurvey",))[0])
        timing = [time_field(side=args.time_side, threads=args.threads, data_dir=args.data_dir)]
        print(report(old["summary"], timing, args.outdir, command=old["command"], n_cases=old.get("n_cases", 0),
                     star_rows=star_rows))
        _update(args)
        return 0
    cases = build_set(n_per_frame=args.n_per_frame, rng=args.seed, data_dir=args.data_dir, cache_dir=args.cache_dir)
    if args.models_only:
        models = {m: (m, "cirrus-mask-gri") for m in ["cirrus-gri", *args.extra_model]}
        rows, _, _ = run_benchmark(cases, models=models, threads=args.threads, baselines=False)
        summary = summarise(rows, [])
        lines = [f"# Cirrus models on the same {len(cases)} held-out mocks", "",
                 f"Command: `astroclean evaluate cirrus -o {args.outdir} --models-only "
                 + " ".join(f"--extra-model {m}" for m in args.extra_model) + "`", "",
                 "| model | part | IoU | precision | recall | alert rate |", "|---|---|---|---|---|---|"]
        for m in models:
            for part, sc in [("all", summary["overall"][m])] + sorted(summary["by_part"][m].items()):
                lines.append(f"| {m} | {part} | {sc['iou']:.3f} | {sc['precision']:.3f} | {sc['recall']:.3f} | "
                             f"{sc['alert_rate']:.3f} |")
        text = "\n".join(lines) + "\n"
        Path(args.outdir).mkdir(parents=True, exist_ok=True)
        (Path(args.outdir) / "cirrus_models.md").write_text(text)
        print(text)
        return 0
    models = {"cirrus-gri (learned mask)": ("cirrus-gri", "cirrus-mask-gri"),
              "cirrus-gri (classical mask)": ("cirrus-gri", "classical")}
    for extra in args.extra_model:
        models[f"{extra} (learned mask)"] = (extra, "cirrus-mask-gri")
    rows, mask_rows, times = run_benchmark(cases, models=models, threads=args.threads)
    summary = summarise(rows, mask_rows)
    star_rows = None if args.no_stars else star_gradients(load_frames(split="all", data_dir_path=args.data_dir, instruments=("LegacySurvey",))[0])
    timing = [time_field(side=args.time_side, threads=args.threads, data_dir=args.data_dir)] if args.time_side else []
    print(report(summary, timing, args.outdir, command=command, n_cases=len(cases), star_rows=star_rows))
    _update(args)
    return 0


def _update(args):
    if args.update_cards:
        from astroclean.cirrus.evaluate.cards import update_cards

        for path in update_cards(Path(args.outdir) / "cirrus_benchmark.json"):
            print(f"updated {path}")


def main(argv=None) -> int:
    """``python -m astroclean.cirrus.cli ...`` is the package command line."""
    from astroclean.cli import main as package_main

    return package_main(argv)


if __name__ == "__main__":
    sys.exit(main())
