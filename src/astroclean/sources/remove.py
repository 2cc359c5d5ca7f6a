"""Remove compact sources from a far-infrared map: ``remove_compact_sources``.

For every source a 96 x 96 cutout is cut around it (NaN-padded at the map
edges, so edge sources are processed, not skipped), a circular hole whose
radius follows the source's SNR is masked together with the holes of the
neighbours that fall in the cutout, and the partial-convolution U-Net
predicts the background in the holes from the valid pixels only. The
predictions of all cutouts are pasted back with weights that favour the
cutout in which a pixel lies nearest the centre, so overlapping sources are
removed jointly. Cutouts go through the network in batches: memory does not
grow with the number of sources, and masks cost O(sources x cutout).

Example
-------
>>> import numpy as np
>>> from astroclean.sources import remove_compact_sources
>>> rng = np.random.default_rng(0)
>>> yy, xx = np.mgrid[:200, :200]
>>> image = rng.normal(0, 1e-3, (200, 200)) + 0.05 * np.exp(-((xx - 80) ** 2 + (yy - 90) ** 2) / 5)
>>> result = remove_compact_sources(image, [(80.0, 90.0)], model="pacs-blue")
>>> result.table["status"][0], bool(np.nanmax(result.background) < 0.01)
('ok', True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from astroclean.background import robust_sigma
from astroclean.tasks import Result
from astroclean.errors import AstrocleanValueError
from astroclean.image import as_image, like_input
from astroclean.sources.catalog import SourcePositions, positions_from_table, validate_positions
from astroclean.sources.cutouts import PasteAccumulator, cutout_origin, extract_cutouts
from astroclean.sources.masks import DEFAULT_MASK_TABLES, MaskTable, find_neighbours, hole_masks, measure_snr


@dataclass(frozen=True)
class SourceRemovalResult(Result):
    """What :func:`remove_compact_sources` returns, whatever the options.

    Attributes
    ----------
    background : ndarray (y, x)
        The source-free map: the input outside the holes, the network's
        background inside them; NaN where the input is NaN.
    sources : ndarray (y, x)
        What was removed, ``image - background`` (0 outside the holes).
    hole : ndarray of bool (y, x)
        The pixels replaced.
    table : astropy.table.Table
        One row per input position: position, SNR, mask radius, status and,
        with photometry, fluxes per aperture and the annulus flux.
    model : str
    meta : dict
        Band, mode, cutout size, timings, the mask table used.
    """

    background: np.ndarray
    sources: np.ndarray
    hole: np.ndarray
    table: object
    model: str
    meta: dict = field(default_factory=dict)

    #: Suffixes of the three products (after the input's stem), as ``astroclean sources`` names them.
    SUFFIXES = ("_nosources.fits", "_sources.fits", "_photometry.ecsv")

    def extensions(self, header=None) -> list:
        """The source-free map (``BACKGROUND``), what was removed (``SOURCES``) and the ``HOLE`` mask."""
        return [("BACKGROUND", np.asarray(self.background), header), ("SOURCES", self.sources, header),
                ("HOLE", self.hole.astype(np.uint8), header, None)]  # a mask: no BUNIT

    def write(self, path, *, header=None, primary_header=None, overwrite: bool = False) -> tuple:
        """Write the three products of ``astroclean sources`` for the stem ``path`` (``out/map`` ->
        ``out/map_nosources.fits``, ``out/map_sources.fits``, ``out/map_photometry.ecsv``); returns their paths."""
        from pathlib import Path

        paths = tuple(Path(f"{path}{suffix}") for suffix in self.SUFFIXES)
        return self.write_products(paths, header=header, primary_header=primary_header, overwrite=overwrite)

    def write_products(self, paths, *, header=None, primary_header=None, overwrite: bool = False) -> tuple:
        """Write the three products to the given ``paths`` (map, sources + hole, photometry table)."""
        from astroclean.io import write_fits
        from astroclean.io.write import atomic_write

        background, sources, hole = self.extensions(header)
        write_fits(paths[0], [background], primary_header=primary_header, provenance=self.provenance,
                   overwrite=overwrite)
        write_fits(paths[1], [sources, hole], primary_header=primary_header, provenance=self.provenance,
                   overwrite=overwrite)
        table = self.table.copy(copy_data=False)
        table.meta.update({f"astroclean_{k}": v for k, v in self.provenance.items() if v is not None})
        for name in table.colnames:
            if table[name].dtype == object:
                table[name] = np.asarray(table[name], dtype=str)

        def write_table(tmp):  # the rows' checksum goes into the meta: --resume verifies the table it skips
            table.meta.pop("astroclean_datasum", None)
            table.write(tmp, format="ascii.ecsv", overwrite=True)
            table.meta["astroclean_datasum"] = rows_sha256(tmp)
            table.write(tmp, format="ascii.ecsv", overwrite=True)

        atomic_write(paths[2], write_table, overwrite=overwrite)
        return tuple(paths)


def rows_sha256(path) -> str:
    """sha256 of an ECSV file's data lines (everything after its ``#`` header): the table's checksum."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for line in fh:
            if not line.startswith(b"#"):
                digest.update(line)
    return digest.hexdigest()


def _as_positions(positions, shape, wcs) -> SourcePositions:
    if isinstance(positions, SourcePositions):
        return positions
    if hasattr(positions, "colnames"):
        return positions_from_table(positions, shape=shape, wcs=wcs)
    if hasattr(positions, "ra") and hasattr(positions, "dec"):  # SkyCoord
        if wcs is None:
            raise AstrocleanValueError("sky coordinates need the map's WCS: pass wcs=..., or pixel positions")
        x, y = wcs.celestial.world_to_pixel(positions)
        return validate_positions(np.atleast_1d(x), np.atleast_1d(y), shape=shape,
                                  ra=np.atleast_1d(positions.ra.deg), dec=np.atleast_1d(positions.dec.deg))
    xy = np.asarray(positions, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise AstrocleanValueError(f"positions must be (N, 2) pixel (x, y) pairs, a Table or a SkyCoord, got an "
                                   f"array of shape {xy.shape}")
    return validate_positions(xy[:, 0], xy[:, 1], shape=shape)


def _mask_table(card, band, mode):
    extra = card.extra or {}
    if "mask_table" in extra and band in (None, extra.get("band")) and mode == extra.get("mode", mode):
        return MaskTable.from_dict(extra["mask_table"])
    key = (band or extra.get("band", "blue"), mode)
    if key not in DEFAULT_MASK_TABLES:
        raise AstrocleanValueError(f"no mask table for band/mode {key}; known: {sorted(DEFAULT_MASK_TABLES)}")
    return DEFAULT_MASK_TABLES[key]


def load_source_model(model="pacs-blue", *, device=None, batch_size: int = 64):
    """A :class:`~astroclean.inference.Predictor` of a compact-source model: a registered name, a module with
    a card, or a Predictor (returned as it is)."""
    from astroclean.inference import Predictor
    from astroclean.models import check_model_task, create_model

    if isinstance(model, Predictor):
        return model
    net = create_model(model) if isinstance(model, str) else model
    card = getattr(net, "card", None)
    if card is None:
        raise AstrocleanValueError("the given module has no model card; build it with astroclean.models.create_model")
    if card.task not in ("sources", "any"):
        check_model_task(card.name, "sources", what="compact-source")  # raises, naming the compact-source models
    return Predictor(net, device=device, activation="none", batch_size=batch_size)


def predict_backgrounds(predictor, data, hole, *, min_scale=None) -> np.ndarray:
    """Network background (N, s, s) in map units for cutouts ``data`` with holes ``hole`` (True = masked)."""
    from astroclean.sources.normalise import denormalise, normalise_cutouts

    if len(data) == 0:
        return np.empty(data.shape, np.float32)
    x, valid, offset, scale = normalise_cutouts(data, hole | ~np.isfinite(data), min_scale=min_scale)
    return denormalise(predictor.cutouts(x, valid)[:, 0], offset, scale)


def remove_compact_sources(image, positions, *, wcs=None, model="pacs-blue", band=None, mode="scan", error=None,
                           mask=None, size: int = 96, snr_annulus=None, photometry: bool = True,
                           batch_size: int = 64, device=None) -> SourceRemovalResult:
    """Inpaint the background under each compact source and measure what was removed.

    Parameters
    ----------
    image : array_like (y, x) or Image
        The map (e.g. Jy/pixel). NaN/inf and ``mask`` pixels are never used
        and stay NaN/unchanged.
    positions : (N, 2) array of pixel (x, y), astropy Table (ra/dec or x/y
        columns), SkyCoord, or :class:`~astroclean.sources.catalog.SourcePositions`
        Unusable rows (NaN, outside, duplicates) are skipped and listed in
        the table with the reason.
    wcs : astropy.wcs.WCS, optional
        Needed for world coordinates (taken from an Image when not given).
    model : str, torch.nn.Module or astroclean.inference.Predictor
        A registered compact-source model (``astroclean models``).
    band, mode : str
        PACS band ("blue", "green", "red") and mode ("scan", "chopnod") of the
        SNR-to-radius table; default: the model card's.
    error : float or array_like (y, x), optional
        1-sigma per pixel for the photometry errors (default: the Image's
        variance plane when it has one, else the annulus scatter).
    mask : array_like of bool, optional
        True = bad pixel.
    size : int
        Cutout side (the model was trained on 96).
    snr_annulus : (float, float), optional
        Annulus of the SNR measurement (default: the mask table's, from the card).
    photometry : bool
        Also measure fluxes (aperture-corrected) and the annulus flux.
    batch_size : int
        Cutouts per network call.

    Returns
    -------
    SourceRemovalResult

    Raises
    ------
    AstrocleanValueError
        Unusable image, positions or model.
    """
    from astropy.table import Table

    start = time.perf_counter()
    img = as_image(image, mask=mask)
    wcs = wcs if wcs is not None else img.wcs
    data = np.where(img.mask, np.nan, img.data).astype(np.float32)
    pos = _as_positions(positions, data.shape, wcs)
    predictor = load_source_model(model, device=device, batch_size=batch_size)
    card = predictor.card
    band = band or (card.extra or {}).get("band", "blue")
    table = _mask_table(card, band, mode)
    use = np.flatnonzero(pos.usable)
    x, y = pos.x[use], pos.y[use]
    snr = measure_snr(data, x, y, annulus=table.annulus if snr_annulus is None else snr_annulus,
                      peak_radius=table.peak_radius).snr
    radius = table.radius(np.nan_to_num(snr, nan=0.0)).astype(float)
    finite = data[np.isfinite(data)]
    noise = robust_sigma(finite) if finite.size else None
    accumulator = PasteAccumulator(data.shape)
    origin = cutout_origin(x, y, size=size) if len(use) else np.zeros((0, 2), np.int64)
    neighbours = find_neighbours(x, y, radius, origin, size=size) if len(use) > 1 else [None] * len(use)
    t_net = 0.0
    for first in range(0, len(use), batch_size):
        sl = slice(first, first + batch_size)
        cut = extract_cutouts(data, x[sl], y[sl], size=size)
        holes = hole_masks((size, size), cut.centre, radius[sl], neighbours=neighbours[sl])
        t0 = time.perf_counter()
        predicted = predict_backgrounds(predictor, cut.data, holes, min_scale=noise)
        t_net += time.perf_counter() - t0
        accumulator.add(predicted, holes & np.isfinite(cut.data), cut.origin)
    filled, covered = accumulator.result()
    background = np.where(covered, filled, data)
    background = np.where(np.isfinite(data), background, np.nan).astype(np.float32)
    removed = np.where(covered, data - background, 0.0).astype(np.float32)
    removed[~np.isfinite(data)] = np.nan
    rows = Table({"id": np.arange(len(pos)), "x": pos.x, "y": pos.y})
    if pos.ra is not None:
        rows["ra"], rows["dec"] = pos.ra, pos.dec
    rows["snr"] = np.full(len(pos), np.nan)
    rows["snr"][use] = snr
    rows["mask_radius"] = np.zeros(len(pos))
    rows["mask_radius"][use] = radius
    rows["status"] = pos.status.astype(object)
    meta = dict(band=band, mode=mode, size=size, mask_table=table.to_dict(), n_sources=int(len(use)),
                seconds_network=t_net)
    if photometry and len(use):
        rows = _photometry(rows, use, data, background, x, y, band=band, error=error, img=img, wcs=wcs,
                           covered=covered, radius=radius, snr=snr)
    meta["seconds"] = time.perf_counter() - start
    provenance = {"task": "sources", "model": card.name, "model_sha256": card.sha256, "band": band, "mode": mode}
    set_units(rows, img.unit)
    background = like_input(background, image)  # an NDData/CCDData or numpy.ma map in: the same type out
    return SourceRemovalResult(background=background, sources=removed, hole=covered, table=rows,
                               model=card.name, meta=meta, provenance=provenance)


def flux_unit(bunit):
    """The unit of a flux summed over pixels of a map in ``bunit`` (``Jy/pixel`` -> ``Jy``); None if unknown."""
    import astropy.units as u

    if not bunit:
        return None
    try:
        unit = u.Unit(str(bunit).replace("pixel", "pix"), parse_strict="raise")
    except ValueError:
        return None
    return (unit * u.pix).decompose(bases=[u.Jy]) if unit.is_equivalent(u.Jy / u.pix) else unit * u.pix


def set_units(table, bunit) -> None:
    """Give every numeric column of a photometry table its unit (in place): pixel positions and radii in pix,
    ra/dec in deg, fluxes in the map's unit times pixels (Jy for Jy/pixel maps), annulus statistics in the map's
    unit, SNR and encircled energies dimensionless; ``id`` and counts (``n_annulus``) stay plain integers, text
    columns text. The ECSV product then carries the units; read it with ``QTable.read`` for Quantities."""
    import astropy.units as u

    pixel_unit = None
    if bunit:
        try:
            pixel_unit = u.Unit(str(bunit).replace("pixel", "pix"), parse_strict="raise")
        except ValueError:
            pixel_unit = None
    flux = flux_unit(bunit)
    for name in table.colnames:
        column = table[name]
        if column.dtype.kind not in "f":  # id, status, counts (n_annulus: an integer, as a QTable keeps it)
            continue
        if name in ("x", "y", "mask_radius"):
            column.unit = u.pix
        elif name in ("ra", "dec"):
            column.unit = u.deg
        elif name.startswith("flux"):
            column.unit = flux if flux is not None else u.dimensionless_unscaled
        elif name.startswith("annulus_"):
            column.unit = pixel_unit if pixel_unit is not None else u.dimensionless_unscaled
        else:  # snr, ee_*: ratios
            column.unit = u.dimensionless_unscaled


def _photometry(rows, use, data, background, x, y, *, band, error, img, wcs, covered, radius, snr):
    from astroclean.instruments.pacs import load_pacs_psf
    from astroclean.photometry import pixel_scale_arcsec
    from astroclean.sources.photometry import measure_sources

    if error is None and img.variance is not None:
        error = np.sqrt(img.variance)
    psf = load_pacs_psf(band, pixel_scale_arcsec=pixel_scale_arcsec(wcs))
    phot = measure_sources(data, background, x, y, psf=psf, error=error, mask_radius=radius, hole=covered, snr=snr)
    skip = {"id", "x", "y", "ra", "dec", "snr", "mask_radius"}
    for name in phot.colnames:
        if name in skip:
            continue
        column = np.asarray(phot[name])
        if column.dtype.kind in "iu":  # counts stay integers: blank (masked) for skipped sources, never text
            from astropy.table import MaskedColumn

            values = np.zeros(len(rows), dtype=np.int64)
            values[use] = column
            rows[name] = MaskedColumn(values, mask=~np.isin(np.arange(len(rows)), use))
            continue
        full = np.full(len(rows), np.nan) if column.dtype.kind == "f" else np.full(len(rows), "", dtype=object)
        full[use] = column
        if name in ("status", "flag"):
            merged = np.asarray(rows["status"], dtype=object)
            merged[use] = np.where(column == "ok", "ok", column)
            rows["status"] = merged
            continue
        rows[name] = full
    return rows
