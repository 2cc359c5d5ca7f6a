"""The cluster task as a batch spec: one field (its F336W, F438W, F814W files and a catalogue) per work unit.

Many fields go through :mod:`astroclean.batch` (``--workers``, ``--resume``, manifest, one failed
field never stops the others). A field is anchored on its F336W file; the other bands are the files
whose names have ``f336w`` replaced by ``f438w`` and ``f814w`` (same case), e.g.
``ngc628_f336w_drc.fits``, ``ngc628_f438w_drc.fits``, ``ngc628_f814w_drc.fits``. The field's
*stem* is the anchor's name without the band and the FITS suffix (``ngc628_drc``), or the folder's
name when nothing else is left (``m83/f336w.fits`` -> ``m83``).

The catalogue of a field: ``catalog`` (``--catalog``) as given, one file for every field (positions
as RA/Dec then make sense across fields), or with ``{field}`` replaced by the stem
(``cats/{field}.csv``); without ``--catalog``, the first of ``<stem>_catalog.csv``,
``<stem>_catalog.ecsv``, ``<stem>.csv``, ``<stem>.ecsv``, ``catalog.csv``, ``catalog.ecsv`` beside the
F336W file.

Products per field: ``<stem>_clusters.ecsv`` (one row per catalogue position, see
:func:`astroclean.clusters.infer_cluster_parameters`; provenance in the ``astroclean_*`` meta keys)
and ``<stem>_clusters.png`` (the cutout sheet with the estimates); both written atomically, never
over an existing file without ``overwrite``.

Example
-------
>>> from astroclean.clusters.batch import field_files
>>> stem, files, band = field_files("a/m83_F336W_drc.fits")
>>> stem, [f.name for f in files], band
('m83_drc', ['m83_F336W_drc.fits', 'm83_F438W_drc.fits', 'm83_F814W_drc.fits'], 'F336W')
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astroclean.batch.tasks import TaskSpec, WorkUnit
from astroclean.errors import AstrocleanFileError, AstrocleanValueError
from astroclean.clusters.tables import BANDS

__all__ = ["ClustersBatch", "field_files", "field_catalog"]

_BAND = re.compile(r"f(336|438|814)w", re.IGNORECASE)
_FITS_SUFFIX = re.compile(r"\.(fits|fit|fts)(\.fz|\.gz)?$", re.IGNORECASE)
CATALOG_NAMES = ("{stem}_catalog.csv", "{stem}_catalog.ecsv", "{stem}.csv", "{stem}.ecsv", "catalog.csv",
                 "catalog.ecsv")


def field_files(path):
    """``(stem, (f336w, f438w, f814w) paths, band of path)`` of the field ``path`` belongs to.

    The band is the last ``f336w``/``f438w``/``f814w`` token of the file name (None, with stem and files
    None, when there is none); the other bands' paths have that token replaced, in the same case.
    """
    path = Path(path)
    matches = list(_BAND.finditer(path.name))
    if not matches:
        return None, None, None
    m = matches[-1]
    token = m.group(0)
    band = token.upper()
    files = []
    for b in BANDS:
        new = b.lower() if token.islower() else (b if token.isupper() else b[0].lower() + b[1:])
        files.append(path.with_name(path.name[:m.start()] + new + path.name[m.end():]))
    rest = _FITS_SUFFIX.sub("", path.name[:m.start()] + path.name[m.end():])
    stem = re.sub(r"[_\-.]{2,}", "_", rest).strip("_-.") or path.resolve().parent.name or "field"
    return stem, tuple(files), band


def field_catalog(stem, anchor, catalog=None) -> Path:
    """The catalogue of the field ``stem`` whose F336W file is ``anchor`` (see the module notes)."""
    if catalog:
        path = Path(str(catalog).replace("{field}", stem))
        if not path.is_file():
            raise AstrocleanFileError(f"catalogue {path} of field {stem!r} not found")
        return path
    folder = Path(anchor).parent
    for pattern in CATALOG_NAMES:
        path = folder / pattern.format(stem=stem)
        if path.is_file():
            return path
    raise AstrocleanFileError(f"no catalogue for field {stem!r}: put {stem}_catalog.csv (columns x, y or ra, dec) "
                              f"beside {Path(anchor).name}, or give --catalog (one file, or a pattern with {{field}})")


def _sha256(paths) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ClustersBatch(TaskSpec):
    """Cluster parameters at catalogue positions in many fields (``astroclean clusters``)."""

    model: str = "wfc3-m83"
    catalog: str | None = None
    one_based: bool = False
    distance: float = 4.5
    zeropoints: tuple | None = None
    png: bool = True
    device: str | None = None

    name = "clusters"
    columns = ("field", "positions", "ok", "clusters")

    def __post_init__(self):
        if not (np.isfinite(self.distance) and self.distance > 0):
            raise AstrocleanValueError(f"distance must be a positive number of Mpc, got {self.distance}")
        if self.zeropoints is not None and len(self.zeropoints) != 3:
            raise AstrocleanValueError(f"zeropoints needs three values (F336W, F438W, F814W), got {self.zeropoints}")

    def units(self, path, *, sha256: str) -> list[WorkUnit]:
        path = Path(path)
        if not path.is_file():
            raise AstrocleanFileError(f"{path} not found")
        stem, files, band = field_files(path)
        if band is None:
            raise AstrocleanValueError(f"{path.name}: no band (f336w, f438w, f814w) in the file name; name a "
                                       "field's files <field>_f336w.fits, <field>_f438w.fits, <field>_f814w.fits")
        if band != BANDS[0]:
            if files[0].is_file():
                return []          # another band of a field, read with its F336W file
            raise AstrocleanValueError(f"band missing: {path.name} has no F336W file {files[0].name} beside it")
        missing = [f.name for f in files[1:] if not f.is_file()]
        if missing:
            raise AstrocleanValueError(f"band missing: field {stem!r} needs {' and '.join(missing)} beside "
                                       f"{path.name} (the model takes F336W, F438W, F814W)")
        field_catalog(stem, path, self.catalog)
        return [WorkUnit(path=str(path), sha256=sha256, index=0, hdu=stem)]

    def outputs(self, unit, outdir):
        outdir = Path(outdir)
        stem = field_files(unit.path)[0]
        return (outdir / f"{stem}_clusters.ecsv",) + ((outdir / f"{stem}_clusters.png",) if self.png else ())

    def load(self):
        from astroclean.clusters.model import load_cluster_model

        net, card = load_cluster_model(self.model)
        net.card = card
        return net

    def provenance(self, unit):
        stem, files, _ = field_files(unit.path)
        catalog = field_catalog(stem, unit.path, self.catalog)
        return {"task": self.name, "input_sha256": unit.sha256, "model": self.model,
                "bands_sha256": _sha256(files[1:]), "catalog_sha256": _sha256([catalog]),
                "distance_mpc": float(self.distance), "one_based": bool(self.one_based),
                "zeropoints": None if self.zeropoints is None else ",".join(f"{z:.4f}" for z in self.zeropoints)}

    def validate(self, unit, outputs):
        from astropy.table import Table

        from astroclean.batch.products import product_task

        table_path = Path(outputs[0])
        try:
            table = Table.read(table_path, format="ascii.ecsv") if table_path.is_file() else None
        except Exception as exc:  # noqa: BLE001 - any failure to read means "not a valid product"
            return f"{table_path.name} unreadable ({type(exc).__name__}: {exc})"
        if table is None:
            return f"{table_path.name} missing"
        for key, value in self.provenance(unit).items():
            if value is not None and table.meta.get(f"astroclean_{key}") != value:
                return f"{table_path.name}: astroclean_{key} is {table.meta.get(f'astroclean_{key}')!r}, expected {value!r}"
        if table.meta.get("astroclean_rows") != len(table):
            return f"{table_path.name} has {len(table)} rows, {table.meta.get('astroclean_rows')} were written"
        for png in outputs[1:]:
            if product_task(png) != self.name:
                return f"{Path(png).name} missing or not written by astroclean clusters"
        return None

    def process(self, state, unit, outputs, *, overwrite):
        from astroclean.io.write import atomic_write

        from astroclean.clusters.api import extract_cutouts, infer_cluster_parameters
        from astroclean.clusters.evaluate.figures import cutout_sheet
        from astroclean.clusters.inputs import read_catalog, read_uvis_bands
        from astroclean.clusters.tables import tables

        stem, files, _ = field_files(unit.path)
        provenance = self.provenance(unit)
        catalog = field_catalog(stem, unit.path, self.catalog)
        stack = read_uvis_bands(files, zeropoints=self.zeropoints)
        positions, ids = read_catalog(catalog, one_based=self.one_based, wcs=stack.wcs)
        table = infer_cluster_parameters(stack, positions, model=state, distance=self.distance, device=self.device)
        table.add_column(ids, name="id", index=0)
        table.meta.update({"field": stem, "images": [f.name for f in files], "catalog": catalog.name})
        table.meta.update({f"astroclean_{k}": v for k, v in provenance.items() if v is not None})
        table.meta["astroclean_rows"] = len(table)
        atomic_write(outputs[0], lambda tmp: table.write(tmp, format="ascii.ecsv", overwrite=True),
                     overwrite=overwrite)
        if self.png:
            pix = np.stack([table["x"].value, table["y"].value], 1)
            cut, _, _ = extract_cutouts(stack.data, stack.mask, pix, 48)
            to_model = 10 ** (-0.4 * (tables().zeropoint - np.asarray(stack.zeropoints)))
            cutout_sheet(cut * to_model[None, :, None, None], table, outputs[1], title=f"{stem}: {catalog.name}",
                         task=self.name, overwrite=overwrite)
        flags = np.asarray(table["flag"], dtype=str)
        return {"field": stem, "positions": len(table), "ok": int(np.sum(flags == "ok")),
                "clusters": int(np.nansum(np.asarray(table["p_cluster"]) > 0.5))}
