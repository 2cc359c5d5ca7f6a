"""The compact-source task as a batch spec: three products per map.

``<stem>_nosources.fits`` (the source-free background, input header and WCS,
provenance cards), ``<stem>_sources.fits`` (what was removed, and the HOLE
mask) and ``<stem>_photometry.ecsv`` (one row per source, skipped ones with
their reason). Positions come from a catalogue (world or pixel columns) or
from matched-filter detection above ``detect`` sigma.

Example
-------
>>> from astroclean.sources.batch import SourcesTask
>>> SourcesTask(model="pacs-blue", detect=5.0).name
'sources'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import check_model_task
from astroclean.io.paths import product_name
from astroclean.batch.tasks import TaskSpec


@lru_cache(maxsize=None)
def _card(model: str):
    from astroclean.models.registry import get_card

    return get_card(model)


@lru_cache(maxsize=8)
def _catalog(path: str):
    from astroclean.sources.catalog import read_catalog

    return read_catalog(path)


@dataclass(frozen=True)
class SourcesTask(TaskSpec):
    """Remove compact sources from every map of many files (``astroclean sources``).

    Exactly one of ``catalog`` (a table file with ra,dec or x,y columns) and
    ``detect`` (a significance threshold) gives the positions.
    """

    model: str = "pacs-blue"
    catalog: str | None = None
    detect: float | None = None
    one_based: bool = False
    band: str | None = None
    mode: str = "scan"
    hdu: str | int | None = None
    device: str | None = None
    batch_size: int = 64

    name = "sources"
    columns = ("sources", "skipped")

    def __post_init__(self):
        check_model_task(self.model, "sources", what="compact-source")
        if (self.catalog is None) == (self.detect is None):
            raise AstrocleanValueError("give exactly one of a catalogue (--catalog sources.csv) or a detection "
                                       "threshold (--detect 5)")
        if self.detect is not None and not self.detect > 0:
            raise AstrocleanValueError(f"the detection threshold must be a positive number of sigma, got {self.detect}")
        if self.catalog is not None:
            _catalog(str(self.catalog))  # unreadable catalogue: one clear error now, not one per map

    def outputs(self, unit, outdir):
        outdir = Path(outdir)
        return (outdir / product_name(unit, "_nosources.fits"), outdir / product_name(unit, "_sources.fits"),
                outdir / product_name(unit, "_photometry.ecsv"))

    def extnames(self, unit):
        return ("BACKGROUND",)

    def provenance(self, unit):
        card = _card(self.model)
        prov = {"task": self.name, "model": self.model, "model_sha256": card.sha256, "input": unit.path,
                "input_sha256": unit.sha256, "hdu": unit.hdu, "mode": self.mode,
                "positions": f"catalog {Path(self.catalog).name}" if self.catalog else f"detect {self.detect:g} sigma"}
        if unit.plane is not None:
            prov["plane"] = unit.plane
        return prov

    def validate(self, unit, outputs):
        from astroclean.batch.products import check_product

        for path, extnames in zip(outputs[:2], (("BACKGROUND",), ("SOURCES", "HOLE"))):
            reason = check_product(path, provenance=self.provenance(unit), extnames=extnames)
            if reason:
                return reason
        return _check_table(outputs[2], unit.sha256)

    def load(self):
        from astroclean.sources.remove import load_source_model

        return load_source_model(self.model, device=self.device)

    def positions(self, image):
        """The positions for one map: the catalogue's rows, or detections."""
        from astroclean.instruments.pacs import load_pacs_psf
        from astroclean.sources.catalog import positions_from_table, validate_positions
        from astroclean.photometry.matched import detect_sources
        from astroclean.photometry import pixel_scale_arcsec

        if self.catalog is not None:
            return positions_from_table(_catalog(str(self.catalog)), shape=image.shape, wcs=image.wcs,
                                        one_based=self.one_based)
        band = self.band or (_card(self.model).extra or {}).get("band", "blue")
        fwhm = load_pacs_psf(band, pixel_scale_arcsec=pixel_scale_arcsec(image.wcs)).fwhm_pixels
        found = detect_sources(image.data, nsigma=self.detect, fwhm=fwhm, mask=image.mask, variance=image.variance)
        return validate_positions(found["x"], found["y"], shape=image.shape)

    def process(self, state, unit, outputs, *, overwrite):
        from astroclean.io import read_images
        from astroclean.sources.remove import remove_compact_sources

        net = state
        image = read_images(unit.path, hdu=unit.index)[unit.plane or 0]
        result = remove_compact_sources(image, self.positions(image), model=net, band=self.band, mode=self.mode,
                                        device=self.device, batch_size=self.batch_size)
        result.replace(provenance=self.provenance(unit)).write_products(
            outputs, header=image.header, primary_header=image.meta.get("primary_header"), overwrite=overwrite)
        status = np.asarray(result.table["status"], dtype=str)
        return {"sources": int(np.sum(status == "ok")), "skipped": int(np.sum(np.char.startswith(status, "skipped")))}


def _check_table(path, sha256):
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        return f"{path.name} missing"
    try:
        table = Table.read(path, format="ascii.ecsv")
    except Exception as exc:  # noqa: BLE001 - any failure to read means "not a valid product"
        return f"{path.name} unreadable ({type(exc).__name__}: {exc})"
    if table.meta.get("astroclean_input_sha256") != sha256:
        return f"{path.name} was made from another input"
    return None
