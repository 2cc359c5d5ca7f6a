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
from astroclean.cosmicrays.features import CHANNEL_NAMES, NORMALISER, NORMALISER3

INSTRUMENTS = {
    "ground": ("DECam", "SDSS", "ground-based CCD imagers"),
    "ground+crowded": ("DECam", "SDSS", "ground-based CCD imagers", "crowded fields"),
    "space": ("HST ACS/WFC", "HST WFC3", "space-based CCD/IR imagers"),
    "all": ("any optical/near-IR imager: HST ACS/WFC3, DECam, SDSS, ground-based CCDs, crowded fields",),
}


def prepare_inputs(cr_set, *, rng, drop_variance: float = 0.3, channels: int = 1, drop_gain: float = 0.3):
    """Network inputs ``x`` and loss-ignore masks for every patch of a CosmicRaySet.

    One channel: the normalised image. Two: plus the per-pixel noise channel; three: plus the 3x3 median of
    the first (:mod:`astroclean.cosmicrays.features`), with the patch's electrons per unit hidden with
    probability ``drop_gain`` (the channel then falls back on the sky's effective gain, or zero),
    as users' headers often lack GAIN.
    """
    from astroclean.cosmicrays.features import network_input

    rng = np.random.default_rng(rng)
    n = len(cr_set.image)
    shape = cr_set.image.shape if channels == 1 else (n, channels, *cr_set.image.shape[1:])
    x = np.empty(shape, dtype=np.float32)
    ignore = np.empty(cr_set.image.shape, dtype=bool)
    gains = getattr(cr_set, "gain", np.full(n, np.nan))
    for i in range(n):
        variance = cr_set.variance[i] if rng.random() >= drop_variance else None
        img = as_image(cr_set.image[i], mask=cr_set.bad[i], variance=variance)
        if channels == 1:
            x[i], _ = normalise(img)
        else:
            g = float(gains[i])
            epu = g if np.isfinite(g) and g > 0 and rng.random() >= drop_gain else "auto"
            x[i], _ = network_input(img, channels=channels, epu=epu)
        ignore[i] = img.mask
    return x, ignore


def core_target(cr_set, *, min_snr: float = 1.0):
    """The charge core: injected pixels whose signal is at least ``min_snr`` times the noise.

    ``min_snr=0`` gives the stored (3x3-dilated) footprint, the target of the version-1 models.
    """
    if min_snr <= 0:
        return cr_set.truth
    return cr_set.truth & (cr_set.snr >= min_snr)


@dataclass(frozen=True)
class PatchSet:
    """The arrays training needs, possibly pooled from several flavours' CosmicRaySets."""

    image: np.ndarray
    variance: np.ndarray
    bad: np.ndarray
    truth: np.ndarray
    snr: np.ndarray
    gain: np.ndarray


#: Settings of the "wide" training sets (version-2 models): PSF FWHM of the simulated fields,
#: fraction of patches with detector artefacts, fraction of simulated fields.
WIDE = {"fwhm_range": (0.8, 8.0), "artefact_probability": 0.35, "star_field_fraction": 0.35}
#: ``--saturated``: a quarter of the patches also get a saturated star whose core is masked, the mask grown
#: by 0-2 px (issue 10, step 1: the wings beside the masked cores were cr-any's top false positives on CG16).
SATURATED = {"saturated_star_probability": 0.25, "saturation_grow": 2}


def make_training_patches(flavours, *, n_patches, patch_size, rng, data_dir=None, wide: bool = False,
                          spectra: bool = False, saturated: bool = False, on_stars: float = 0.0,
                          on_stars_fraction: float = 1.0, spiked_stars: float = 0.0) -> PatchSet:
    """Patches from the TRAIN split of every flavour in ``flavours`` (``"ground+crowded"``, ``"all"``), pooled.

    ``wide``: also the extra real backgrounds (:func:`~astroclean.cosmicrays.simulate.backgrounds.wide_training_backgrounds`),
    simulated fields of PSF FWHM 0.8-8 px (stars, crowded, galaxy-dominated) and detector artefacts as
    negatives (:data:`WIDE`); ``saturated`` adds masked saturated stars (:data:`SATURATED`); ``on_stars``
    is the fraction of patches that also get hits placed on their stars
    (:data:`~astroclean.cosmicrays.simulate.sets.ON_STARS`; issue 10: recall inside bright isophotes), and
    ``on_stars_fraction`` the fraction of each such patch's bright stars that get them; ``spiked_stars`` the
    fraction of patches that get a bright star with diffraction spikes as a negative.
    """
    from astroclean.cosmicrays.simulate import make_cosmic_ray_set
    from astroclean.cosmicrays.simulate.backgrounds import wide_training_backgrounds

    if flavours == "all":
        flavours = "space+ground+crowded"
    names = flavours.split("+") if isinstance(flavours, str) else list(flavours)
    rng = np.random.default_rng(rng)
    counts = [n_patches // len(names) + (i < n_patches % len(names)) for i in range(len(names))]
    sets = []
    for name, n in zip(names, counts):
        if not n:
            continue
        options = {}
        if wide:
            options = dict(WIDE, extra_backgrounds=wide_training_backgrounds(name, data_dir=data_dir))
            if spectra:   # spectra (sky lines, traces) join the artefacts drawn
                from astroclean.cosmicrays.simulate.artefacts import ARTEFACTS, EXTRA_ARTEFACTS

                options["artefact_pool"] = ARTEFACTS + EXTRA_ARTEFACTS
        if saturated:
            options.update(SATURATED)
        if spiked_stars:
            options["spiked_star_probability"] = float(spiked_stars)
        if on_stars:
            options["on_stars_probability"] = float(on_stars)
            if on_stars_fraction != 1.0:
                options["on_stars"] = {"star_fraction": float(on_stars_fraction)}
        sets.append(make_cosmic_ray_set(name, "train", n_patches=n, patch_size=patch_size, rng=rng,
                                        data_dir=data_dir, **options))
    return PatchSet(*(np.concatenate([getattr(s, f) for s in sets])
                      for f in ("image", "variance", "bad", "truth", "snr", "gain")))


def validation_threshold(model, x_val, val, ignore, *, fpr: float, config) -> float:
    """The probability threshold at which a fraction ``fpr`` of the validation negatives is flagged."""
    from astroclean.cosmicrays.fpr import threshold_from_scores
    from astroclean.training.loop import evaluate_loss

    _, logits = evaluate_loss(model, x_val, val.truth, ignore, config=config, device="cpu")
    t = threshold_from_scores(logits, fpr, mask=val.truth | ignore)
    return float(1.0 / (1.0 + np.exp(-t)))


def _make_sets(flavour, *, n_patches, val_patches, patch_size, seed, data_dir, log, **options):
    log(f"simulating {n_patches} training + {val_patches} validation patches ({flavour}, {patch_size} px"
        f"{''.join(f', {k}={v}' for k, v in options.items() if v)})")
    train = make_training_patches(flavour, n_patches=n_patches, patch_size=patch_size, rng=seed, data_dir=data_dir,
                                  **options)
    val = make_training_patches(flavour, n_patches=val_patches, patch_size=patch_size, rng=seed + 1000,
                                data_dir=data_dir, **options)
    return train, val


def train_cosmic_ray_model(flavour: str, *, name: str, config: TrainConfig = TrainConfig(), n_patches: int = 3000,
                           val_patches: int = 300, patch_size: int = 128, rng: int = 0, data_dir=None,
                           output_dir=None, overwrite: bool = False, device=None, command: str = "",
                           log=print, target_snr: float = 0.0, wide: bool = False, default_dilate: int = 0,
                           init_from: str | None = None, target_fpr: float | None = None, spectra: bool = False,
                           saturated: bool = False, on_stars: float = 0.0, on_stars_fraction: float = 1.0,
                           spiked_stars: float = 0.0):
    """Simulate, train, pick the best validation epoch and (optionally) export weights + card.

    The best epoch maximises the TPR at 1e-4 FPR of validation cosmic-ray
    pixels above 1.5 sigma (the threshold set on all negative pixels).
    ``rng`` is an integer seed (recorded in the card): the same seed gives the
    same training set. ``target_snr`` > 0 trains on the charge core (injected signal at least
    that many sigma, :func:`core_target`) instead of the dilated footprint; ``config.in_channels``
    = 2 adds the per-pixel noise channel, 3 also the 3x3 median of the first; ``wide`` widens the training
    data (:data:`WIDE`);
    ``default_dilate`` is recorded in the card as the post-threshold dilation users get;
    ``init_from`` names a shipped model to warm-start from (its weights, new input channels zero);
    ``target_fpr`` sets the card's default threshold to the one giving that FPR on the validation
    negatives (pixels outside the injected footprints), instead of 0.5; ``saturated`` adds masked
    saturated stars (:data:`SATURATED`); ``on_stars`` places hits on the stars of that fraction of the patches
    (on ``on_stars_fraction`` of their bright stars); ``spiked_stars`` gives that fraction of the patches a
    bright star with diffraction spikes (a negative).
    Returns ``(model, card, history)``.
    """
    if not isinstance(rng, (int, np.integer)):
        raise TypeError("rng must be an integer seed here: it is recorded in the model card")
    seed = int(rng)
    start = time.perf_counter()
    train, val = _make_sets(flavour, n_patches=n_patches, val_patches=val_patches, patch_size=patch_size,
                            seed=seed, data_dir=data_dir, log=log, wide=wide, spectra=spectra, saturated=saturated,
                            on_stars=on_stars, on_stars_fraction=on_stars_fraction, spiked_stars=spiked_stars)
    log(f"simulated in {(time.perf_counter() - start) / 60:.1f} min")
    channels = config.in_channels
    x_train, ig_train = prepare_inputs(train, rng=seed, channels=channels)
    x_val, ig_val = prepare_inputs(val, rng=seed + 1, channels=channels)
    t_train, t_val = core_target(train, min_snr=target_snr), core_target(val, min_snr=target_snr)

    def score(prob):  # the target metric: TPR at 1e-4 FPR of cosmic-ray pixels above 1.5 sigma
        return float(tpr_at_fpr_by_signal(val.truth, prob, val.snr, 1e-4, bins=((1.5, np.inf),),
                                          ignore=ig_val).tpr[0])

    init_state = None
    if init_from:
        from astroclean.models import create_model

        init_state = create_model(init_from, pretrained=True).state_dict()
    model, history = train_detector(x_train, t_train, ig_train, x_val, t_val, ig_val, config=config,
                                    device=device, log=log, score_fn=score, init_state=init_state)
    minutes = (time.perf_counter() - start) / 60
    best = max(history, key=lambda h: h["val_score"])
    default_threshold = 0.5
    if target_fpr:
        default_threshold = validation_threshold(model, x_val, val, ig_val, fpr=target_fpr, config=config)
        log(f"default threshold {default_threshold:.6g}: FPR {target_fpr:g} on the validation negatives")
    card = ModelCard(
        name=name, task="cosmicrays", architecture=config.architecture(),
        description=("one cosmic-ray detector for any instrument" if flavour == "all" else
                     f"{flavour}-based cosmic-ray detector") + ", UNet "
                    f"({'GroupNorm' if config.norm == 'group' else 'BatchNorm'}"
                    f"{', attention gates' if config.attention else ''}, depth {config.depth}, width {config.width})",
        inputs={"bands": ["any"], "channels": config.in_channels,
                "units": "any linear unit (ADU, e-, e-/s); sky and noise are normalised away",
                "normaliser": {1: "sky-noise-asinh", 2: NORMALISER, 3: NORMALISER3}[config.in_channels],
                "names": list(CHANNEL_NAMES[:config.in_channels])},
        outputs={"kind": "mask", "names": ["cosmic_ray"], "units": ["probability"], "activation": "sigmoid",
                 "score": "logit, written unsaturated (CRLOGIT); probability = sigmoid(logit)"},
        instruments=INSTRUMENTS.get(flavour, ()),
        training_data=(f"{n_patches} patches of {patch_size} px: REAL cosmic-ray hits from the training half of the "
                       f"library (astroclean.simulate, split 'train') and simulated tracks injected into the "
                       f"'train' {flavour} backgrounds (disjoint from the benchmark set) and simulated star fields, "
                       "with sky-level and gain augmentation; seed " + str(seed)),
        training_command=command, training_time=training_time_text(minutes, device),
        default_threshold=float(default_threshold),
        metrics={"validation_tpr_at_1e-4_fpr_above_1.5_sigma": round(float(best["val_score"]), 4),
                 "benchmark": "see docs/benchmark.md (filled in by scripts/update_model_cards.py)"},
        extra={"config": config.to_dict(), "history": history, "flavour": flavour, "patch_size": patch_size,
               "target": (f"charge core: injected signal >= {target_snr:g} sigma" if target_snr > 0
                          else "injected footprint dilated by 3x3"),
               "default_dilate": int(default_dilate), "wide": bool(wide), "spectra": bool(spectra),
               "saturated": bool(saturated), "on_stars": float(on_stars),
               "on_stars_fraction": float(on_stars_fraction), "spiked_stars": float(spiked_stars),
               "init_from": init_from,
               "default_threshold_rule": (f"FPR {target_fpr:g} on the validation negatives" if target_fpr
                                          else "0.5")},
    )
    if output_dir is not None:
        card = export_model(model, card, directory=output_dir, overwrite=overwrite)
        log(f"wrote {output_dir}/{card.weights_file} (sha256 {card.sha256[:12]}...) and its card")
    return model, card, history
