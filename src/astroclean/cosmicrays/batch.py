"""The cosmic-ray task as a batch spec: one product ``<stem>[.<HDU>].cr.fits`` per image.

Each product holds ``CLEAN`` (with ``inpaint``), ``CRMASK`` (uint8, 1 = cosmic ray)
and ``CRPROB`` (unless ``probability=False``), the input headers and WCS, and the
provenance cards (model, its sha256, threshold, the input file and its sha256).

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astropy.io import fits
>>> from astroclean.batch import run_batch
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> fits.PrimaryHDU(np.random.default_rng(1).normal(100, 5, (64, 64)).astype("f4")).writeto(folder / "a.fits")
>>> report = run_batch(CosmicTask(model="unet-bn"), [folder / "a.fits"], outdir=folder / "out", progress=False)
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

_FILLS = ("biharmonic", "median")


@lru_cache(maxsize=None)
def _card(model: str):
    from astroclean.models.registry import get_card

    return get_card(model)


@dataclass(frozen=True)
class CosmicTask(TaskSpec):
    """Cosmic-ray detection (and optional cleaning) of every image of many files.

    Parameters mirror :func:`astroclean.cosmicrays.detect_cosmic_rays` and the
    ``astroclean cosmic`` flags; they are validated at construction.
    """

    model: str = "ground"
    threshold: float | None = None
    dilate: int = 0
    saturation: float | None = None
    inpaint: bool = False
    fill: str = "biharmonic"
    probability: bool = True
    hdu: str | int | None = None
    device: str | None = None
    tile: int = 1024

    name = "cosmicrays"
    columns = ("cr_pixels", "fraction")

    def __post_init__(self):
        from astroclean.cosmicrays.detect import check_threshold

        check_model_task(self.model, "cosmicrays", what="cosmic-ray")  # a clear error now, not one per task
        if self.threshold is not None:
            check_threshold(self.threshold)
        if isinstance(self.dilate, bool) or int(self.dilate) != self.dilate or self.dilate < 0:
            raise AstrocleanValueError(f"dilate must be a non-negative integer, got {self.dilate!r}")
        if self.fill not in _FILLS:
            raise AstrocleanValueError(f"fill must be one of {', '.join(_FILLS)}, got {self.fill!r}")
        if self.device is not None:
            from astroclean.inference.device import select_device

            select_device(self.device)

    def outputs(self, unit, outdir):
        return (Path(outdir) / product_name(unit, ".cr.fits"),)

    def extnames(self, unit):
        return (("CLEAN",) if self.inpaint else ()) + ("CRMASK",) + (("CRPROB",) if self.probability else ())

    def provenance(self, unit):
        card = _card(self.model)
        threshold = card.default_threshold if self.threshold is None else self.threshold
        prov = {"task": self.name, "model": self.model, "model_sha256": card.sha256, "threshold": float(threshold),
                "dilate": int(self.dilate), "inpaint": bool(self.inpaint), "fill": self.fill if self.inpaint else None,
                "input": unit.path, "input_sha256": unit.sha256, "hdu": unit.hdu}
        if unit.plane is not None:
            prov["plane"] = unit.plane
        return prov

    def load(self):
        from astroclean.cosmicrays import CosmicRayDetector

        return CosmicRayDetector(self.model, device=self.device, tile=self.tile)

    def process(self, state, unit, outputs, *, overwrite):
        from astroclean.io import read_images

        images = read_images(unit.path, hdu=unit.index, saturation=self.saturation)
        image = images[unit.plane or 0]
        result = state.detect(image, threshold=self.threshold, dilate=self.dilate, inpaint=self.inpaint,
                              fill=self.fill)
        provenance = {**self.provenance(unit), "norm": result.meta.get("normalisation")}
        result.replace(provenance=provenance).write(outputs[0], header=image.header, overwrite=overwrite,
                                                    primary_header=image.meta.get("primary_header"),
                                                    probability=self.probability)
        valid = max(int((~image.mask).sum()), 1)
        return {"cr_pixels": result.n_pixels, "fraction": f"{result.n_pixels / valid:.2e}"}
