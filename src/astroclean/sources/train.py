"""Train and export the compact-source removal network (partial-convolution U-Net).

Training pairs are 96x96 cutouts around injected PACS-like point sources on
far-infrared backgrounds (:func:`astroclean.sources.simulate.maps.make_cutout_set`):
the input is the cutout with its SNR-adaptive hole, the target the true
background. The source sits up to 2 px from the hole centre (the catalogue
position error, drawn by ``make_cutout_set``). Cutouts are normalised exactly
as at inference (:func:`astroclean.sources.normalise.normalise_cutouts`),
augmented with flips and 90-degree rotations (optionally whole-cutout rolls
of up to ``max_shift`` pixels, the wrapped strip marked as no data), and
fitted with
:func:`astroclean.sources.losses.inpainting_loss` (Adam,
ReduceLROnPlateau on the validation loss, best-validation checkpoint).

Example
-------
>>> from astroclean.sources.train import SourceTrainConfig, train_inpainter   # doctest: +SKIP
>>> model, history = train_inpainter(train_set, val_set, config=SourceTrainConfig(epochs=1))  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from astroclean.errors import AstrocleanValueError
from astroclean.inference.device import select_device
from astroclean.models.card import ModelCard
from astroclean.models.registry import build_architecture
from astroclean.sources.masks import DEFAULT_MASK_TABLES, hole_masks
from astroclean.sources.normalise import normalise_cutouts
from astroclean.training.export import export_model, training_time_text
from astroclean.sources.losses import FrozenEncoder, inpainting_loss
from astroclean.training.trainer import Trainer, channels_last, dihedral, shuffled_batches

FLUX_DECADES = ((0.01, 0.1), (0.1, 1.0), (1.0, 10.0), (10.0, 100.0))
BAND_TEXT = {"blue": "70 um", "green": "100 um", "red": "160 um"}
_KEYS = ("x", "valid", "target", "known", "image", "source", "central")


@dataclass(frozen=True)
class SourceTrainConfig:
    """Architecture and optimisation settings (recorded in the model card)."""

    depth: int = 6
    width: int = 12
    epochs: int = 20
    batch_size: int = 16
    lr: float = 1e-3
    max_shift: int = 0                 # extra whole-cutout rolls; the +-2 px source shifts come with the data
    patience: int = 5
    flux_weight: float = 1.0
    style_levels: int = 3
    time_limit: float | None = None    # minutes; stop before an epoch that would end past it
    seed: int = 0

    def architecture(self) -> dict:
        return dict(kind="pconv-unet", depth=self.depth, width=self.width)

    def to_dict(self) -> dict:
        return asdict(self)


def prepare_cutouts(cutouts: dict) -> dict:
    """Normalised tensors (N, 1, S, S) from a ``make_cutout_set`` dict, plus flux, snr, offset, scale.

    ``central`` marks the hole pixels of the cutout's own source (its circle
    at the cutout centre, or at ``centre`` when the set gives it); ``source``
    is ``image - background`` (the injected flux: the source plus any
    neighbour overlapping its hole), so inside ``central`` the extracted
    ``image - output`` should equal it.
    """
    image = np.asarray(cutouts["image"])
    hole = np.asarray(cutouts["hole"], dtype=bool)
    x, valid, offset, scale = normalise_cutouts(image, hole)
    n, size = image.shape[0], image.shape[-1]
    norm = lambda a: (np.asarray(a, np.float64) - offset[:, None, None]) / scale[:, None, None]  # noqa: E731
    target = norm(cutouts["background"])
    known = np.isfinite(target)
    full = norm(image)
    # what removal should take out of the source's hole: the source plus any neighbour overlapping it
    source = full - target
    centres = np.asarray(cutouts.get("centre", np.full((n, 2), size // 2, np.float64)), np.float64)
    central = hole_masks(image.shape[1:], centres, np.asarray(cutouts["radius"], np.float64)) & hole
    arrays = dict(x=x[:, 0], valid=valid[:, 0], target=np.where(known, target, 0.0), known=known,
                  image=np.where(np.isfinite(full), full, 0.0), source=np.nan_to_num(source), central=central)
    out = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))[:, None] for k, v in arrays.items()}
    out.update(flux=np.asarray(cutouts["flux"], np.float64), snr=np.asarray(cutouts["snr"], np.float64),
               offset=offset, scale=scale)
    return out


def _shift(batch: dict, max_shift: int, generator: torch.Generator) -> dict:
    """Roll every item by up to ``max_shift`` pixels; the wrapped strips become no-data."""
    if max_shift <= 0:
        return batch
    out = {k: v.clone() for k, v in batch.items()}
    shifts = torch.randint(-max_shift, max_shift + 1, (len(batch["x"]), 2), generator=generator)
    for i, (dy, dx) in enumerate(shifts.tolist()):
        for k in _KEYS:
            out[k][i] = torch.roll(batch[k][i], (dy, dx), dims=(-2, -1))
        strip = torch.zeros(out["x"].shape[-2:], dtype=torch.bool)
        if dy > 0:
            strip[:dy] = True
        elif dy < 0:
            strip[dy:] = True
        if dx > 0:
            strip[:, :dx] = True
        elif dx < 0:
            strip[:, dx:] = True
        for k in ("x", "valid", "known", "central"):
            out[k][i, :, strip] = 0.0
    return out


def _loss(model, batch, extractor, weights):
    output = model(batch["x"], batch["valid"])
    return inpainting_loss(output, batch["x"], batch["valid"], batch["target"], known=batch["known"],
                           image=batch["image"], source=batch["source"], central=batch["central"],
                           extractor=extractor, weights=weights)


def flux_ratio_stats(ratio, flux, *, decades=FLUX_DECADES) -> dict:
    """Median, IQR (p75 - p25) and count of ``ratio`` per injected-flux decade (Jy)."""
    ratio, flux = np.asarray(ratio, np.float64), np.asarray(flux, np.float64)
    out = {}
    for lo, hi in decades:
        sel = (flux >= lo) & (flux < hi) & np.isfinite(ratio)
        if sel.any():
            p25, p50, p75 = np.percentile(ratio[sel], [25, 50, 75])
            out[f"{lo:g}-{hi:g} Jy"] = dict(median=round(float(p50), 4), iqr=round(float(p75 - p25), 4),
                                            n=int(sel.sum()))
    return out


def evaluate_inpainter(model, data: dict, *, extractor=None, weights=None, batch_size: int = 64, device="cpu"):
    """Validation loss and flux ratios: removed flux in the central hole over the injected flux there.

    Returns ``(loss, terms, ratio)`` where ``ratio[i] = sum_hole(input - output) / sum_hole(input - background)``
    over the source's own hole of cutout ``i``: the network's own error (the hole misses the PSF wings
    outside it, which is the mask table's choice, not the network's).
    """
    model.eval()
    total, terms, ratios = 0.0, {}, []
    n = len(data["x"])
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            batch = {k: channels_last(data[k][start:start + batch_size].to(device)) for k in _KEYS}
            output = model(batch["x"], batch["valid"])
            loss, parts = inpainting_loss(output, batch["x"], batch["valid"], batch["target"], known=batch["known"],
                                          image=batch["image"], source=batch["source"], central=batch["central"],
                                          extractor=extractor, weights=weights)
            k = len(batch["x"])
            total += float(loss) * k
            for name, value in parts.items():
                terms[name] = terms.get(name, 0.0) + value * k / n
            c = batch["central"]
            removed = ((batch["image"] - output) * c).sum(dim=(1, 2, 3))
            injected = (batch["source"] * c).sum(dim=(1, 2, 3))
            ratios.append((removed / torch.where(injected != 0, injected, torch.nan)).cpu().numpy())
    return total / n, terms, np.concatenate(ratios)


def train_inpainter(train: dict, val: dict, *, config: SourceTrainConfig = SourceTrainConfig(), device=None,
                    extractor=None, log=print):
    """Fit a PConvUNet on prepared cutouts (:func:`prepare_cutouts`); return (model, history).

    The model of the epoch with the lowest validation loss is returned (eval
    mode, on CPU). ``extractor`` defaults to :class:`FrozenEncoder` (the
    shipped ``"ground"`` encoder) for the style term.
    """
    if len(train["x"]) < config.batch_size or len(val["x"]) == 0:
        raise AstrocleanValueError(f"need at least batch_size={config.batch_size} training cutouts and one "
                                   f"validation cutout, got {len(train['x'])} and {len(val['x'])}")
    device = select_device(device)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = build_architecture(config.architecture()).to(device)
    extractor = (extractor or FrozenEncoder(levels=config.style_levels)).to(device)
    if device.type == "cpu":
        model, extractor = model.to(memory_format=torch.channels_last), extractor.to(memory_format=torch.channels_last)
    weights = {"flux": config.flux_weight}
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, factor=0.5, patience=config.patience)

    def batches(_round):
        for idx in shuffled_batches(len(train["x"]), config.batch_size, generator):
            batch = _shift({k: train[k][idx] for k in _KEYS}, config.max_shift, generator)
            batch = dict(zip(_KEYS, dihedral(*(batch[k] for k in _KEYS), generator=generator)))
            yield {k: channels_last(v.to(device)) for k, v in batch.items()}

    def validate(net):
        val_loss, terms, ratio = evaluate_inpainter(net, val, extractor=extractor, weights=weights, device=device)
        return dict(val_loss=val_loss, val_terms={k: round(v, 5) for k, v in terms.items()},
                    val_flux_ratio_median=float(np.nanmedian(ratio)))

    def report(entry):
        log(f"epoch {entry['round']}/{config.epochs}: train {entry['train_loss']:.4f} val {entry['val_loss']:.4f} "
            f"flux ratio {entry['val_flux_ratio_median']:.4f} lr {entry['lr']:.1e} ({entry['seconds']:.0f} s)")

    trainer = Trainer(model, optimiser, loss=lambda net, batch: _loss(net, batch, extractor, weights)[0],
                      validate=validate, schedule=scheduler, time_limit=config.time_limit, stop="round",
                      log=None if log is None else report)
    trainer.fit(batches, rounds=config.epochs, steps_per_round=len(train["x"]) // config.batch_size)
    if log is not None and len(trainer.history) < config.epochs:
        log(f"stopped after epoch {len(trainer.history)}: the next would end past the {config.time_limit} min limit")
    history = [dict(epoch=h.pop("round"), **{k: v for k, v in h.items() if k not in ("steps", "minutes")})
               for h in map(dict, trainer.history)]
    return model.cpu().to(memory_format=torch.contiguous_format).eval(), history


def train_source_model(band: str = "blue", *, name: str, config: SourceTrainConfig = SourceTrainConfig(),
                       n_train: int = 4000, n_val: int = 500, mode: str = "scan", rng: int = 0, output_dir=None,
                       overwrite: bool = False, device=None, command: str = "", cutout_fn=None, log=print):
    """Simulate cutouts, train, validate and (optionally) export weights + card. Returns (model, card, history).

    ``cutout_fn(n, *, split, band, mode, size, rng) -> dict`` defaults to
    :func:`astroclean.sources.simulate.maps.make_cutout_set`; ``rng`` is an
    integer seed recorded in the card (training uses it, validation ``rng + 1000``).
    """
    if not isinstance(rng, (int, np.integer)):
        raise TypeError("rng must be an integer seed here: it is recorded in the model card")
    if (band, mode) not in DEFAULT_MASK_TABLES:
        raise AstrocleanValueError(f"no mask table for band {band!r}, mode {mode!r}; known: "
                                   f"{sorted(DEFAULT_MASK_TABLES)}")
    if cutout_fn is None:
        from astroclean.sources.simulate.maps import make_cutout_set as cutout_fn
    seed, begin = int(rng), time.perf_counter()
    log(f"simulating {n_train} training + {n_val} validation cutouts ({band}, 96 px)")
    train_raw = cutout_fn(n_train, split="train", band=band, mode=mode, size=96, rng=seed)
    val_raw = cutout_fn(n_val, split="train", band=band, mode=mode, size=96, rng=seed + 1000)
    train, val = prepare_cutouts(train_raw), prepare_cutouts(val_raw)
    log(f"cutouts ready in {(time.perf_counter() - begin) / 60:.1f} min")
    model, history = train_inpainter(train, val, config=config, device=device, log=log)
    minutes = (time.perf_counter() - begin) / 60
    extractor = FrozenEncoder(levels=config.style_levels)
    weights = {"flux": config.flux_weight}
    val_loss, terms, ratio = evaluate_inpainter(model, val, extractor=extractor, weights=weights)
    metrics = {"validation_loss": round(val_loss, 5), "validation_terms": {k: round(v, 5) for k, v in terms.items()},
               "validation_flux_ratio_by_decade": flux_ratio_stats(ratio, val["flux"]),
               "validation_flux_ratio_definition": "sum over the source's own hole of (input - predicted "
               "background) / sum there of (input - true background), i.e. of the injected flux; median and IQR "
               "(p75 - p25) per decade of the central source's total flux", "benchmark": "see docs/benchmark.md (filled in by the evaluation)"}
    table = DEFAULT_MASK_TABLES[(band, mode)]
    card = ModelCard(
        name=name, task="sources", architecture=config.architecture(),
        description=f"compact-source removal for PACS {BAND_TEXT.get(band, band)} {mode} maps: partial-convolution "
                    f"U-Net (depth {config.depth}, width {config.width}) filling SNR-adaptive holes on 96x96 cutouts",
        inputs={"bands": [f"PACS {BAND_TEXT.get(band, band)}"], "channels": 1, "units": "Jy/pixel (any linear unit: each cutout is rescaled)", "normaliser": "cutout-linear", "extra_input": "valid mask (1 = known pixel)"},
        outputs={"kind": "image", "names": ["background"], "units": ["input units"], "activation": "none"}, instruments=(f"Herschel PACS {BAND_TEXT.get(band, band)} {mode} maps",),
        training_data=(f"{n_train} training + {n_val} validation cutouts of 96 px from "
                       f"astroclean.sources.simulate.maps.make_cutout_set(split='train', band={band!r}): PACS-PSF "
                       f"point sources (0.01-40 Jy) injected into the 'train' far-infrared backgrounds (real PACS maps "
                       f"carrying their own real sources, rescaled Bolocam/Spitzer/MSX maps, synthetic filaments), "
                       f"holes from the mask table below centred on a catalogue position up to 2 px from the source; "
                       f"augmented with flips and rotations (rolls <= {config.max_shift} px); seeds {seed} (train), "
                       f"{seed + 1000} (validation)"),
        training_command=command, training_time=training_time_text(minutes, device),
        metrics=metrics,
        extra={"mask_table": table.to_dict(), "band": band, "mode": mode, "cutout_size": 96,
               "config": config.to_dict(), "loss_weights": {"valid": 2, "hole": 6, "style": 120, "ssim": 0.4,
                                                            "source": 1, "flux": config.flux_weight},
               "style_features": "frozen encoder (3 levels) of the shipped 'ground' cosmic-ray UNet, input asinh(x/2): "
                                 "offline, trained on astronomical noise/PSF statistics, tiny so cheap on CPU",
               "history": history})
    if output_dir is not None:
        card = export_model(model, card, directory=output_dir, overwrite=overwrite)
        log(f"wrote {output_dir}/{card.weights_file} (sha256 {card.sha256[:12]}...) and its card")
    return model, card, history
