"""The cosmic-ray task as a batch spec: one product ``<stem>[.<HDU>].cr.fits`` per image.

Each product holds ``CLEAN`` (with ``inpaint``), ``CRMASK`` (uint8, 1 = cosmic ray)
and ``CRPROB`` (unless ``probability=False``; neither carries BUNIT), the input headers and
WCS, and the provenance cards (model and why it was chosen, its sha256, threshold, the input
file and its sha256, CHECKSUM/DATASUM). With ``plot``, ``<stem>[.<HDU>].quicklook.png`` too.

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astropy.io import fits
>>> from astroclean.batch import run_batch
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> fits.PrimaryHDU(np.random.default_rng(1).normal(100, 5, (64, 64)).astype("f4")).writeto(folder / "a.fits")
>>> report = run_batch(CosmicTask(), [folder / "a.fits"], outdir=folder / "out", progress=False)
>>> report.n_done, [pathlib.Path(p).name for p in report.rows[0]["outputs"]]
(1, ['a.cr.fits'])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import check_model_task
from astroclean.io.paths import product_name
from astroclean.batch.tasks import TaskSpec

_FILLS = ("biharmonic", "median", "noise")
_AUTO = "auto"


@lru_cache(maxsize=None)
def _card(model: str):
    from astroclean.models.registry import get_card

    return get_card(model)


@dataclass(frozen=True)
class CosmicTask(TaskSpec):
    """Cosmic-ray detection (and optional cleaning) of every image of many files.

    Parameters mirror :func:`astroclean.cosmicrays.detect_cosmic_rays` and the
    ``astroclean cosmic`` flags; they are validated at construction. ``model="auto"``
    (the default) chooses per image by header (``space`` for HST and other space
    telescopes, else ``ground``); the summary's ``model`` column says which and why.
    ``plot`` also writes ``<stem>.quicklook.png``; ``rng`` seeds ``fill="noise"``.
    """

    model: str = _AUTO
    threshold: float | None = None
    dilate: int | None = None
    fpr: float | None = None
    saturation: float | None = None
    inpaint: bool = False
    fill: str = "biharmonic"
    probability: bool = True
    hdu: str | int | None = None
    device: str | None = None
    tile: int | None = None
    plot: bool = False
    rng: int = 0
    allow_untrained: bool = False

    name = "cosmicrays"
    columns = ("model", "cr_pixels", "fraction")

    def __post_init__(self):
        from astroclean.cosmicrays.detect import check_threshold

        if self.model != _AUTO:  # a clear error now, not one per task
            from astroclean.cosmicrays.detect import check_untrained

            check_untrained(self.model, allow_untrained=self.allow_untrained)
        if self.threshold is not None:
            check_threshold(self.threshold)
        if self.dilate is not None and (isinstance(self.dilate, bool) or int(self.dilate) != self.dilate
                                        or self.dilate < 0):
            raise AstrocleanValueError(f"dilate must be a non-negative integer, got {self.dilate!r}")
        if self.fpr is not None:
            from astroclean.cosmicrays.fpr import check_fpr

            check_fpr(self.fpr)
        if self.fill not in _FILLS:
            raise AstrocleanValueError(f"fill must be one of {', '.join(_FILLS)}, got {self.fill!r}")
        if self.saturation is not None and not self.saturation > 0:
            raise AstrocleanValueError(f"saturation must be a positive level in the image's units, got "
                                       f"{self.saturation}; leave it out to use the header's SATURATE")
        if self.device is not None:
            from astroclean.inference.device import select_device

            select_device(self.device)

    def outputs(self, unit, outdir):
        fits_path = Path(outdir) / product_name(unit, ".cr.fits")
        return (fits_path,) + ((Path(outdir) / product_name(unit, ".quicklook.png"),) if self.plot else ())

    def extnames(self, unit):
        return (("CLEAN",) if self.inpaint else ()) + ("CRMASK",) + (("CRPROB", "CRLOGIT") if self.probability else ())

    def validate(self, unit, outputs):
        from astroclean.batch.products import check_product, product_task

        reason = check_product(outputs[0], provenance=self.provenance(unit), extnames=self.extnames(unit))
        if reason is None and self.plot and product_task(outputs[1]) != self.name:
            reason = f"{outputs[1].name} missing"
        return reason

    def provenance(self, unit):
        prov = {"task": self.name, "model_request": self.model if self.model == _AUTO else None}
        if self.model != _AUTO:
            card = _card(self.model)
            prov.update(model=self.model, model_sha256=card.sha256)
            prov["threshold"] = float(card.default_threshold if self.threshold is None else self.threshold)
        elif self.threshold is not None:
            prov["threshold"] = float(self.threshold)
        prov.update({"dilate": self.dilate, "fpr": self.fpr, "inpaint": bool(self.inpaint),
                     "fill": self.fill if self.inpaint else None,
                     "rng": int(self.rng) if self.inpaint and self.fill == "noise" else None,
                     "input": unit.path, "input_sha256": unit.sha256, "hdu": unit.hdu})
        if unit.plane is not None:
            prov["plane"] = unit.plane
        return prov

    def load(self):
        from astroclean.cosmicrays import CosmicRayDetector

        detectors = {}
        if self.model != _AUTO:
            detectors[self.model] = CosmicRayDetector(self.model, device=self.device, tile=self.tile,
                                                      allow_untrained=self.allow_untrained)
        return detectors

    def process(self, state, unit, outputs, *, overwrite):
        from astroclean.cosmicrays import CosmicRayDetector
        from astroclean.cosmicrays.choose import choose_model
        from astroclean.io import read_images

        images = read_images(unit.path, hdu=unit.index, saturation=self.saturation)
        image = images[unit.plane or 0]
        model, reason = choose_model(self.model, image)
        if model not in state:  # "auto": each model loaded once per worker, when first needed
            state[model] = CosmicRayDetector(model, device=self.device, tile=self.tile,
                                             allow_untrained=self.allow_untrained)
        result = state[model].detect(image, threshold=self.threshold, dilate=self.dilate, fpr=self.fpr,
                                     inpaint=self.inpaint,
                                     fill=self.fill, rng=self.rng)
        provenance = {**self.provenance(unit), "model": model, "model_sha256": state[model].card.sha256,
                      "threshold": float(result.threshold), "why_model": reason,
                      "norm": result.meta.get("normalisation"), "sathalo": result.meta.get("n_saturation_halo"),
                      "dilate": int(result.meta["dilate"])}
        if self.fpr is not None:   # the threshold estimated from this frame for the target FPR
            provenance.update(tlogit=float(result.meta["threshold_logit"]), tsource=result.meta["threshold_source"])
        result.replace(provenance=provenance).write(outputs[0], header=image.header, overwrite=overwrite,
                                                    primary_header=image.meta.get("primary_header"),
                                                    probability=self.probability)
        if self.plot:
            from astroclean.io.quicklook import write_quicklook

            write_quicklook(outputs[1], image.data, found=result.cr_mask, cleaned=result.cleaned,
                            title=f"{unit.label}: {result.n_pixels} cosmic-ray px, model {model}",
                            found_label="cosmic rays", task=self.name, overwrite=overwrite)
        valid = max(int((~image.mask).sum()), 1)
        return {"model": f"{model} ({reason})", "cr_pixels": result.n_pixels,
                "fraction": f"{result.n_pixels / valid:.2e}"}
