"""Set a shipped cosmic-ray model's default threshold to a target FPR on its own validation set.

    python scripts/calibrate_cr_threshold.py --model cr-any --fpr 1e-4 --val-patches 160

Rebuilds the model's validation patches exactly as its training did (flavour, patch size, ``wide``,
seed + 1000, input channels from the card), runs the model, and takes the threshold at which a
fraction ``--fpr`` of the validation negatives (pixels outside every injected footprint, bad pixels
left out) is flagged, *before* the card's post-threshold dilation. The card is rewritten with that
``default_threshold`` and the rule in ``extra["default_threshold_rule"]``; the weights (and their
sha256) do not change. Nothing of the benchmark is used: the unseen-instrument part stays unseen.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--fpr", type=float, default=1e-4)
    parser.add_argument("--val-patches", type=int, required=True, help="as in the card's training command")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)

    from astroclean.cosmicrays.train import make_training_patches, prepare_inputs, validation_threshold
    from astroclean.models import create_model, get_card, weights_dir
    from astroclean.training.loop import TrainConfig

    card = get_card(args.model)
    extra = card.extra
    seed = int(extra["config"]["seed"])
    val = make_training_patches(extra["flavour"], n_patches=args.val_patches, patch_size=int(extra["patch_size"]),
                                rng=seed + 1000, data_dir=args.data_dir, wide=bool(extra.get("wide")))
    channels = int(card.inputs.get("channels", 1))
    x_val, ig_val = prepare_inputs(val, rng=seed + 1, channels=channels)
    model = create_model(args.model)
    config = TrainConfig(**{k: v for k, v in extra["config"].items() if k in {f.name for f in
                                                                             dataclasses.fields(TrainConfig)}})
    threshold = validation_threshold(model, x_val, val, ig_val, fpr=args.fpr, config=config)
    rule = (f"FPR {args.fpr:g} on the validation negatives ({args.val_patches} patches, seed {seed + 1000}), "
            f"set by scripts/calibrate_cr_threshold.py --model {args.model} --fpr {args.fpr:g} "
            f"--val-patches {args.val_patches}")
    new = dataclasses.replace(card, default_threshold=float(threshold),
                              extra={**extra, "default_threshold_rule": rule})
    path = weights_dir() / f"{card.name}.json"
    new.write(path)
    print(f"{card.name}: default threshold {threshold:.6g} (logit {np.log(threshold) - np.log1p(-threshold):.3f}); "
          f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
