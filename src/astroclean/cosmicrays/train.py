"""Train the cosmic-ray models from simulated pairs on real backgrounds.

The same :func:`astroclean.inference.normalise` used at inference turns every
patch into network input, so training and use never drift apart. A fraction
of patches is normalised without their variance plane (robust noise
estimate instead), as users' images often come without one.

Example
-------
>>> from astroclean.cosmicrays.train import train_cosmic_ray_model   # doctest: +SKIP
>>> card = train_cosmic_ray_model("ground", name="ground", output_dir="src/astroclean/weights")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from astroclean.image import as_image
from astroclean.inference.normalise import normalise
from astroclean.metrics import tpr_at_fpr_by_signal
from astroclean.models.card import ModelCard
from astroclean.training.export import export_model, training_time_text
from astroclean.training.loop import TrainConfig, train_detector

INSTRUMENTS = {
    "ground": ("DECam", "SDSS", "ground-based CCD imagers"),
    "ground+crowded": ("DECam", "SDSS", "ground-based CCD imagers", "crowded fields"),
    "space": ("HST ACS/WFC", "HST WFC3", "space-based CCD/IR imagers"),
}


def prepare_inputs(cr_set, *, rng, drop_variance: float = 0.3):
    """Normalised inputs ``x`` and loss-ignore masks for every patch of a CosmicRaySet."""
    rng = np.random.default_rng(rng)
    n = len(cr_set.image)
    x = np.empty(cr_set.image.shape, dtype=np.float32)
    ignore = np.empty(cr_set.image.shape, dtype=bool)
    for i in range(n):
        variance = cr_set.variance[i] if rng.random() >= drop_variance else None
        img = as_image(cr_set.image[i], mask=cr_set.bad[i], variance=variance)
        x[i], _ = normalise(img)
        ignore[i] = img.mask
    return x, ignore


@dataclass(frozen=True)
class PatchSet:
    """The arrays training needs, possibly pooled from several flavours' CosmicRaySets."""

    image: np.ndarray
    variance: np.ndarray
    bad: np.ndarray
    truth: np.ndarray
    snr: np.ndarray


def make_training_patches(flavours, *, n_patches, patch_size, rng, data_dir=None) -> PatchSet:
    """Patches from the TRAIN split of every flavour in ``flavours`` (``"ground+crowded"``), pooled."""
    from astroclean.cosmicrays.simulate import make_cosmic_ray_set

    names = flavours.split("+") if isinstance(flavours, str) else list(flavours)
    rng = np.random.default_rng(rng)
    counts = [n_patches // len(names) + (i < n_patches % len(names)) for i in range(len(names))]
    sets = [make_cosmic_ray_set(name, "train", n_patches=n, patch_size=patch_size, rng=rng, data_dir=data_dir)
            for name, n in zip(names, counts) if n]
    return PatchSet(*(np.concatenate([getattr(s, f) for s in sets]) for f in ("image", "variance", "bad", "truth", "snr")))


def _make_sets(flavour, *, n_patches, val_patches, patch_size, seed, data_dir, log):
    log(f"simulating {n_patches} training + {val_patches} validation patches ({flavour}, {patch_size} px)")
    train = make_training_patches(flavour, n_patches=n_patches, patch_size=patch_size, rng=seed, data_dir=data_dir)
    val = make_training_patches(flavour, n_patches=val_patches, patch_size=patch_size, rng=seed + 1000,
                                data_dir=data_dir)
    return train, val


def train_cosmic_ray_model(flavour: str, *, name: str, config: TrainConfig = TrainConfig(), n_patches: int = 3000,
                           val_patches: int = 300, patch_size: int = 128, rng: int = 0, data_dir=None,
                           output_dir=None, overwrite: bool = False, device=None, command: str = "",
                           log=print):
    """Simulate, train, pick the best validation epoch and (optionally) export weights + card.

    The best epoch maximises the TPR at 1e-4 FPR of validation cosmic-ray
    pixels above 1.5 sigma (the threshold set on all negative pixels).
    ``rng`` is an integer seed (recorded in the card): the same seed gives the
    same training set.
    Returns ``(model, card, history)``.
    """
    if not isinstance(rng, (int, np.integer)):
        raise TypeError("rng must be an integer seed here: it is recorded in the model card")
    seed = int(rng)
    start = time.perf_counter()
    train, val = _make_sets(flavour, n_patches=n_patches, val_patches=val_patches, patch_size=patch_size,
                            seed=seed, data_dir=data_dir, log=log)
    x_train, ig_train = prepare_inputs(train, rng=seed)
    x_val, ig_val = prepare_inputs(val, rng=seed + 1)

    def score(prob):  # the target metric: TPR at 1e-4 FPR of cosmic-ray pixels above 1.5 sigma
        return float(tpr_at_fpr_by_signal(val.truth, prob, val.snr, 1e-4, bins=((1.5, np.inf),),
                                          ignore=ig_val).tpr[0])

    model, history = train_detector(x_train, train.truth, ig_train, x_val, val.truth, ig_val, config=config,
                                    device=device, log=log, score_fn=score)
    minutes = (time.perf_counter() - start) / 60
    best = max(history, key=lambda h: h["val_score"])
    card = ModelCard(
        name=name, task="cosmicrays", architecture=config.architecture(),
        description=f"{flavour}-based cosmic-ray detector, UNet "
                    f"({'GroupNorm' if config.norm == 'group' else 'BatchNorm'}"
                    f"{', attention gates' if config.attention else ''}, depth {config.depth}, width {config.width})",
        inputs={"bands": ["any"], "channels": 1, "units": "any linear unit (ADU, e-, e-/s); sky and noise are normalised away", "normaliser": "sky-noise-asinh"},
        outputs={"kind": "mask", "names": ["cosmic_ray"], "units": ["probability"], "activation": "sigmoid"}, instruments=INSTRUMENTS.get(flavour, ()),
        training_data=(f"{n_patches} patches of {patch_size} px: REAL cosmic-ray hits from the training half of the "
                       f"library (astroclean.simulate, split 'train') and simulated tracks injected into the "
                       f"'train' {flavour} backgrounds (disjoint from the benchmark set) and simulated star fields, "
                       "with sky-level and gain augmentation; seed " + str(seed)),
        training_command=command, training_time=training_time_text(minutes, device),
        metrics={"validation_tpr_at_1e-4_fpr_above_1.5_sigma": round(float(best["val_score"]), 4),
                 "benchmark": "see docs/benchmark.md (filled in by scripts/update_model_cards.py)"},
        extra={"config": config.to_dict(), "history": history, "flavour": flavour, "patch_size": patch_size},
    )
    if output_dir is not None:
        card = export_model(model, card, directory=output_dir, overwrite=overwrite)
        log(f"wrote {output_dir}/{card.weights_file} (sha256 {card.sha256[:12]}...) and its card")
    return model, card, history
