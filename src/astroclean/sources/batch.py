"""The compact-source task as a batch spec: three products per map.

``<stem>_nosources.fits`` (the source-free background, input header and WCS,
provenance cards: band, mode, model and the header cards that chose them), ``<stem>_sources.fits``
(what was removed, and the HOLE mask, without BUNIT) and ``<stem>_photometry.ecsv`` (one row per
source, skipped ones with their reason; units on every numeric column, ra/dec when the map has a
WCS; a checksum of the rows). With ``plot``, ``<stem>.quicklook.png`` too. Positions come from a catalogue (world or pixel columns) or
from matched-filter detection above ``detect`` sigma.

Example
-------
>>> from astroclean.sources.batch import SourcesTask
>>> SourcesTask(detect=5.0).name
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
    ``detect`` (a significance threshold) gives the positions. ``band``, ``mode`` and
    ``model`` default to what each map's header says (``WAVELNTH``/``CAMERA``, ``OBS_MODE``:
    :mod:`astroclean.sources.setup`); a given value wins, with a warning when the header
    disagrees. The summary's ``setup`` column and the products' ``ACBAND``/``ACMODE``/``ACMODEL``
    cards say which were used. ``plot`` also writes ``<stem>.quicklook.png``.
    """

    model: str | None = None
    catalog: str | None = None
    detect: float | None = None
    one_based: bool = False
    band: str | None = None
    mode: str | None = None
    hdu: str | int | None = None
    device: str | None = None
    batch_size: int = 64
    plot: bool = False

    name = "sources"
    columns = ("setup", "sources", "skipped")

    def __post_init__(self):
        if self.model is not None:
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
        paths = (outdir / product_name(unit, "_nosources.fits"), outdir / product_name(unit, "_sources.fits"),
                 outdir / product_name(unit, "_photometry.ecsv"))
        return paths + ((outdir / product_name(unit, ".quicklook.png"),) if self.plot else ())

    def extnames(self, unit):
        return ("BACKGROUND",)

    def provenance(self, unit):
        asked = {"model": self.model, "band": self.band, "mode": self.mode}
        prov = {"task": self.name, "setup_request": ",".join(f"{k}={v or 'header'}" for k, v in asked.items()),
                "input": unit.path, "input_sha256": unit.sha256, "hdu": unit.hdu,
                "positions": f"catalog {Path(self.catalog).name}" if self.catalog else f"detect {self.detect:g} sigma"}
        if self.model is not None:
            prov["model_sha256"] = _card(self.model).sha256
        if unit.plane is not None:
            prov["plane"] = unit.plane
        return prov

    def validate(self, unit, outputs):
        from astroclean.batch.products import check_product, product_task

        for path, extnames in zip(outputs[:2], (("BACKGROUND",), ("SOURCES", "HOLE"))):
            reason = check_product(path, provenance=self.provenance(unit), extnames=extnames)
            if reason:
                return reason
        reason = _check_table(outputs[2], unit.sha256)
        if reason is None and self.plot and product_task(outputs[3]) != self.name:
            reason = f"{outputs[3].name} missing"
        return reason

    def load(self):
        return {}  # one predictor per model, loaded when a map first needs it

    def setup(self, image):
        """Band, mode and model of one map: the options given, else its header (see :mod:`astroclean.sources.setup`)."""
        from astroclean.sources.setup import resolve

        return resolve([image.header, image.meta.get("primary_header")], band=self.band, mode=self.mode,
                       model=self.model, label=image.name)

    def positions(self, image, band=None):
        """The positions for one map: the catalogue's rows, or detections (with ra/dec when the map has a WCS)."""
        from astroclean.instruments.pacs import load_pacs_psf
        from astroclean.sources.catalog import positions_from_table, validate_positions
        from astroclean.photometry.matched import detect_sources
        from astroclean.photometry import pixel_scale_arcsec

        if self.catalog is not None:
            return positions_from_table(_catalog(str(self.catalog)), shape=image.shape, wcs=image.wcs,
                                        one_based=self.one_based)
        band = band or self.setup(image).band
        fwhm = load_pacs_psf(band, pixel_scale_arcsec=pixel_scale_arcsec(image.wcs)).fwhm_pixels
        found = detect_sources(image.data, nsigma=self.detect, fwhm=fwhm, mask=image.mask, variance=image.variance)
        x, y = np.asarray(found["x"], float), np.asarray(found["y"], float)
        ra = dec = None
        if image.wcs is not None and getattr(image.wcs, "has_celestial", False) and len(x):
            ra, dec = (np.asarray(v, float) for v in image.wcs.celestial.all_pix2world(x, y, 0))
        return validate_positions(x, y, shape=image.shape, ra=ra, dec=dec)

    def process(self, state, unit, outputs, *, overwrite):
        from astroclean.io import read_images
        from astroclean.sources.remove import load_source_model, remove_compact_sources

        image = read_images(unit.path, hdu=unit.index)[unit.plane or 0]
        setup = self.setup(image)
        if setup.model not in state:
            state[setup.model] = load_source_model(setup.model, device=self.device)
        net = state[setup.model]
        result = remove_compact_sources(image, self.positions(image, setup.band), model=net, band=setup.band,
                                        mode=setup.mode, device=self.device, batch_size=self.batch_size)
        provenance = {**self.provenance(unit), "model": setup.model, "model_sha256": net.card.sha256,
                      "band": setup.band, "mode": setup.mode, "setup_from": setup.reason}
        result.replace(provenance=provenance).write_products(
            outputs[:3], header=image.header, primary_header=image.meta.get("primary_header"), overwrite=overwrite)
        status = np.asarray(result.table["status"], dtype=str)
        if self.plot:
            from astroclean.io.quicklook import write_quicklook

            ok = status == "ok"
            xy = np.stack([np.asarray(result.table["x"])[ok], np.asarray(result.table["y"])[ok]], axis=1)
            write_quicklook(outputs[3], image.data, found=result.hole, positions=xy, cleaned=result.background,
                            title=f"{unit.label}: {int(ok.sum())} sources removed ({setup.band}, {setup.mode})",
                            found_label="holes", task=self.name, overwrite=overwrite)
        return {"setup": f"{setup.band}/{setup.mode} {setup.model} ({setup.reason})",
                "sources": int(np.sum(status == "ok")), "skipped": int(np.sum(np.char.startswith(status, "skipped")))}


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
    from astroclean.sources.remove import rows_sha256

    if table.meta.get("astroclean_datasum") != rows_sha256(path):
        return f"{path.name} corrupt (its rows do not match the checksum written with them)"
    return None
