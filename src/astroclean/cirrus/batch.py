"""The cirrus task as a batch spec: one field (its g, r, i files, or one cube) per work unit.

Many fields go through :mod:`astroclean.batch` (``--workers``, ``--resume``, manifest). A field given
as one file per band is one unit, anchored on its first band's file (``field_g.fits``); the other
bands are the files with the band letter replaced (``field_r.fits``, ``field_i.fits``, or
``field_z.fits`` for g, r, z data). A cube (``NAXIS3`` = 3) is a unit by itself.

Products per field: ``<stem>_cirrus.fits`` (``CIRRUS``, ``SRCMASK``, ``STARMODEL``, ``IMAGE_<band>``)
and ``<stem>_cirrus.png`` (the quick-look), where ``<stem>`` is the file name without the band.

Example
-------
>>> from astroclean.cirrus.batch import field_files
>>> field_files("a/field_g.fits", exists=lambda p: True)[1]
('a/field_g.fits', 'a/field_r.fits', 'a/field_i.fits')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from astroclean.batch.tasks import TaskSpec, WorkUnit
from astroclean.errors import AstrocleanValueError

__all__ = ["CirrusBatch", "field_files"]

BAND_SETS = (("g", "r", "i"), ("g", "r", "z"))
_TOKEN = re.compile(r"(?P<head>.*[_\-.])(?P<band>[ugrizyY])(?P<tail>(?:[_\-.][^/]*)?\.(?:fits|fit|fts)(?:\.fz|\.gz)?)$",
                    re.IGNORECASE)


def field_files(path, *, exists=lambda p: Path(p).is_file()):
    """``(stem, files)`` of the field whose anchor (first-band) file is ``path``; files None when ``path``
    is another band of a field (it is read with its anchor) or names no band."""
    path = str(path)
    m = _TOKEN.match(path)
    if not m:
        return None, None
    head, band, tail = m.group("head"), m.group("band"), m.group("tail")
    stem = Path(head.rstrip("_-.") + re.sub(r"\.(fits|fit|fts)(\.fz|\.gz)?$", "", tail, flags=re.IGNORECASE)).name
    for bands in BAND_SETS:
        if band != bands[0]:
            continue
        files = tuple(head + b + tail for b in bands)
        if all(exists(f) for f in files):
            return stem, files
    return stem, None


def _is_cube(path) -> bool:
    """Whether the file holds a cube (several planes), from the headers (``astroclean.io.read.list_images``)."""
    from astroclean.io.read import list_images

    return any(plane is not None for _, _, plane in list_images(path))


@dataclass(frozen=True)
class CirrusBatch(TaskSpec):
    """Segment cirrus in many fields (``astroclean cirrus``)."""

    model: str = "cirrus-gri"
    masker: str = "cirrus-mask-gri"
    threshold: float | None = None
    star_limit: float | None = 1000.0
    zeropoint: tuple | None = None
    pixel_scale: float | None = None
    single_band: bool = False
    subtract_sky: bool = False
    png: bool = True
    device: str | None = None
    weights_dir: str | None = None
    catalog: bool = False
    bin_arcsec: float = 6.0

    name = "cirrus"
    columns = ("bands", "cirrus", "masked", "stars", "filaments")

    def __post_init__(self):
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise AstrocleanValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if not self.bin_arcsec > 0:
            raise AstrocleanValueError(f"bin_arcsec must be > 0 arcsec, got {self.bin_arcsec}")

    def units(self, path, *, sha256: str) -> list[WorkUnit]:
        if self.single_band or _is_cube(path):
            return [WorkUnit(path=str(path), sha256=sha256, index=0, hdu="0")]
        stem, files = field_files(path)
        if stem is None:
            raise AstrocleanValueError(f"{Path(path).name}: no band letter in the file name (field_g.fits, "
                                       "field_r.fits, ...); give one file per band named so, one cube, or "
                                       "--single-band")
        if files is not None:
            return [WorkUnit(path=str(path), sha256=sha256, index=0, hdu="0")]
        m = _TOKEN.match(str(path))
        head, band, tail = m.group("head"), m.group("band"), m.group("tail")
        if band == "g":
            wanted = " or ".join(", ".join(Path(head + b + tail).name for b in bands[1:]) for bands in BAND_SETS)
            raise AstrocleanValueError(f"band missing: {Path(path).name} needs {wanted} beside it (the model takes "
                                       "g, r, i; Legacy Survey/DECam g, r, z); add the files or use --single-band")
        anchor = Path(head + "g" + tail)
        if not anchor.is_file():
            raise AstrocleanValueError(f"band missing: {Path(path).name} has no g-band file {anchor.name}; "
                                       "add it or use --single-band")
        return []        # another band of a field, read with its g-band file

    def _stem(self, unit):
        from astroclean.io.paths import product_stem

        stem, files = (None, None) if self.single_band else field_files(unit.path)
        return stem if files else product_stem(Path(unit.path))

    def outputs(self, unit, outdir):
        outdir = Path(outdir)
        stem = self._stem(unit)
        catalogue = (outdir / f"{stem}_filaments.ecsv", outdir / f"{stem}_segments.fits") if self.catalog else ()
        return (outdir / f"{stem}_cirrus.fits",) + ((outdir / f"{stem}_cirrus.png",) if self.png else ()) + catalogue

    def extnames(self, unit):
        return ("CIRRUS", "SRCMASK", "STARMODEL")

    def load(self):
        from astroclean.cirrus.api import CirrusSegmenter

        return CirrusSegmenter(model=self.model, masker=self.masker, threshold=self.threshold,
                               star_limit=self.star_limit, device=self.device, weights_dir=self.weights_dir)

    def provenance(self, unit):
        return {"task": self.name, "input_sha256": unit.sha256, "model": self.model}

    def process(self, state, unit, outputs, *, overwrite):
        from astroclean.cirrus.inputs import as_cirrus_stack

        files = None if self.single_band else field_files(unit.path)[1]
        paths = list(files) if files else [unit.path]
        zp = self.zeropoint if self.zeropoint is None or len(self.zeropoint) > 1 else self.zeropoint[0]
        stack = as_cirrus_stack(paths, zeropoint=zp, pixel_scale=self.pixel_scale, single_band=self.single_band)
        result = state(stack, subtract_sky=self.subtract_sky)
        result = result.replace(provenance={**result.provenance, **self.provenance(unit)})
        result.write(outputs[0], overwrite=overwrite, png=str(outputs[1]) if self.png else False)
        info = {"bands": ",".join(result.bands), "cirrus": f"{result.cirrus.mean():.1%}",
                "masked": f"{result.source_mask.mean():.1%}", "stars": len(result.stars)}
        if self.catalog:  # issue 12: filaments and their colours (Gaussian and linear), beside the segmentation
            from astroclean.cirrus.catalog import extract_filaments
            from astroclean.cirrus.colours import measure_colours, write_filament_products

            filaments = extract_filaments(result.cirrus, stack, bin_arcsec=self.bin_arcsec,
                                          source_mask=result.source_mask)
            table = measure_colours(filaments, stack, method="both")
            stem = Path(outputs[0]).name[: -len("_cirrus.fits")]
            write_filament_products(filaments, table, Path(outputs[0]).parent, stem=stem, plots=self.png,
                                    image=stack.data[min(1, len(stack.data) - 1)], overwrite=overwrite)
            info["filaments"] = len(table)
        return info
