"""Real backgrounds for cosmic-ray injection, with a per-pixel variance.

Three flavours, each split into disjoint ``"train"`` and ``"benchmark"`` sets:

``"space"``
    HST: the ACS F814W COSMOS patch (spatially split: columns < 352 train,
    >= 362 benchmark), the WFC3/IR F105W Abell 2744 cutouts (the dwarf-galaxy
    one with its rms map is held out whole for the benchmark) and the ACS
    AEGIS galaxy stamps (the 156x142 stamp, in F606W and F814W, is benchmark;
    the two small ones train).
``"ground"``
    DECam Community Pipeline cutouts with their inverse-variance weight
    (``oow``) and DQ (``ood``) planes, held out by sky field: the fields at
    (RA, Dec) = (186.74, 25.46) and (9.12, 3.40) are benchmark, the other
    six train. SDSS g, r, i (nanomaggies) are split spatially (columns < 500
    train, >= 510 benchmark). ``optical/decam_grz`` holds copies of S4/S9
    cutouts and is not read twice.
``"crowded"``
    The 2MASS K Galactic-centre mosaic (columns < 530 / >= 540), the Spitzer
    IRAC Galactic-plane field (columns < 760 / >= 770) and a simulated dense
    star field (different seeds per split).

Variance: ``1/w`` of a weight plane, the square of an rms map, or a robust
local estimate (median absolute deviation of the residual from a 5x5 median
in 32-pixel blocks) plus the Poisson variance of the sources when the image
is in electrons or electrons/s with a known exposure time. Pixels with a
non-zero DQ code, NaN or non-positive variance are masked.
``Image.meta["electrons_per_unit"]`` gives the conversion to electrons (NaN
when unknown: nanomaggies, MJy/sr, 2MASS DN).

The benchmark backgrounds ship with the package (``astroclean/data/benchmark``,
written by ``scripts/build_cr_library.py``), so the benchmark runs without
the real-data folder; training backgrounds are read from ``data_dir``
(``data_dir`` or ``$ASTROCLEAN_DATA_DIR``).

Example
-------
>>> from astroclean.cosmicrays.simulate import load_backgrounds
>>> bench = load_backgrounds("space", "benchmark")
>>> all(b.variance is not None for b in bench)
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError
from astroclean.image import Image, as_image
from astroclean.io.npz import load_npz, save_npz
from astroclean.background import block_median, noise_map
from astroclean.simulate.common import PACKAGE_DATA, read_fits_plane, resolve_data_dir

__all__ = ["load_backgrounds", "write_benchmark_backgrounds", "FLAVOURS", "electrons_per_unit"]

FLAVOURS = ("space", "ground", "crowded")
BENCHMARK_DIR = PACKAGE_DATA / "benchmark"
_DECAM = "cosmic_rays/decam_cp_cutouts/"


@dataclass(frozen=True)
class _Source:
    name: str
    flavour: str
    path: str                   # relative to the data folder ("" for simulated)
    kind: str                   # "hst", "robust", "decam", "rms", "simulated"
    split: str                  # "train", "benchmark" or "columns"
    columns: tuple = ()         # (train_stop, benchmark_start) for a spatial split
    hdu: object = None
    unit: str | None = None
    extra: str = ""             # rms-map path, or simulated-field seed


def _decam(stem, split):
    return _Source(f"decam_{stem.replace('{}_', '')}", "ground", _DECAM + "c4d_" + stem.replace("{}", "ooi") + ".fits",
                   "decam", split)


_BENCH_FIELDS = ("170316_062107_{}_z_ls9.N2", "131122_030338_{}_z_ls9.S21", "141029_043225_{}_g_ls9.N26",
                 "141029_043420_{}_r_ls9.N26")
_TRAIN_FIELDS = ("140818_232043_{}_z_ls9.N12", "150110_053718_{}_z_ls9.S11", "150110_053718_{}_z_ls9.S4",
                 "150329_083320_{}_r_ls9.N11", "150329_083505_{}_g_ls9.N11", "150411_035242_{}_z_v1-N10",
                 "150412_073257_{}_z_ls9.N11", "170916_045042_{}_r_ls9.N15", "171113_060340_{}_r_ls9.N6",
                 "171113_061941_{}_r_ls9.S4", "180218_090701_{}_z_ls9.N10", "180518_044138_{}_r_ls9.N12",
                 "180809_002630_{}_g_ls9.N12", "180908_000426_{}_g_ls9.N10", "181104_072440_{}_g_ls9.S4",
                 "181214_050844_{}_g_ls9.S9", "181215_045000_{}_z_ls9.S9", "181215_051332_{}_r_ls9.S9")

CATALOGUE = (
    _Source("cosmos_acs_f814w", "space", "hst/cosmos_acs_f814w_patch.fits", "hst", "columns", (352, 362),
            unit="electron/s"),
    _Source("abell2744_cd_f105w", "space", "hst/abell_2744_cd_galaxy_f105w.fits.gz", "hst", "train"),
    _Source("abell2744_group_f105w", "space", "hst/abell_2744_group_of_galaxies_f105w.fits.gz", "hst", "train"),
    _Source("abell2744_spiral_f105w", "space", "hst/abell_2744_spiral_galaxy_f105w.fits.gz", "hst", "train"),
    _Source("abell2744_dwarf_f105w", "space", "hst/abell_2744_dwarf_galaxy_f105w.fits.gz", "rms", "benchmark",
            extra="hst/abell_2744_dwarf_galaxy_f105w_rms.fits.gz"),
    *(_Source(f"aegis_{band}_{k}", "space", f"hst/AEGIS_{band}_images_01.fits", "robust",
              "benchmark" if k == 1 else "train", hdu=k) for band in ("F606w", "F814w") for k in range(3)),
    *(_decam(s, "benchmark") for s in _BENCH_FIELDS),
    *(_decam(s, "train") for s in _TRAIN_FIELDS),
    *(_Source(f"sdss_{b}", "ground", f"optical/sdss_gri/reprojected_sdss_{b}.fits", "robust", "columns",
              (500, 510), unit="nanomaggy") for b in "gri"),
    _Source("2mass_k_galactic_centre", "crowded", "far_infrared/galactic/gc_2mass_k.fits", "robust", "columns",
            (530, 540), unit="DN"),
    _Source("spitzer_irac_galactic_plane", "crowded", "far_infrared/galactic/spitzer_example_image.fits",
            "robust", "columns", (760, 770), unit="MJy/sr"),
    _Source("simulated_dense_field_train", "crowded", "", "simulated", "train", extra="20240611"),
    _Source("simulated_dense_field_benchmark", "crowded", "", "simulated", "benchmark", extra="20240612"),
)


def electrons_per_unit(image: Image) -> float:
    """Electrons per image unit of ``image`` (NaN when unknown)."""
    value = image.meta.get("electrons_per_unit") if isinstance(image.meta, dict) else None
    if value is not None:
        return float(value)
    unit = (image.unit or "").lower().replace(" ", "")
    if unit in ("electron", "electrons", "e-"):
        return 1.0
    if unit in ("adu", "dn", "counts") and image.gain:
        return float(image.gain)
    if unit in ("electron/s", "electrons/s", "e-/s") and image.exptime:
        return float(image.exptime)
    return float("nan")


def _robust_variance(data, bad, epu):
    var = noise_map(data, mask=bad) ** 2
    if np.isfinite(epu) and epu > 0:            # Poisson variance of the sources above the local sky
        above = np.clip(data - block_median(data, mask=bad), 0.0, None)
        var = var + np.where(bad, 0.0, above) / epu
    return var


def _read_source(src: _Source, root: Path) -> Image:
    """The full frame of ``src`` as an Image with variance and mask."""
    if src.kind == "simulated":
        from astroclean.simulate.starfield import simulate_star_field

        img = simulate_star_field((320, 320), rng=int(src.extra), n_stars=3000, n_galaxies=10, psf_fwhm=2.6,
                                  sky=400.0, gain=2.0, read_noise=6.0)
        return img.replace(name=src.name, meta={**img.meta, "source": "simulate_star_field"})
    data, header = read_fits_plane(root / src.path, hdu=src.hdu)
    bad = ~np.isfinite(data)
    meta = {"source": src.path + (f"[{src.hdu}]" if src.hdu is not None else "")}
    fields = {"header": header}
    if src.kind == "decam":
        from astropy.io import fits

        weight = fits.getdata(root / src.path.replace("_ooi_", "_oow_")).astype(np.float64)
        dq = fits.getdata(root / src.path.replace("_ooi_", "_ood_")).astype(np.int32)
        bad |= (dq != 0) | ~(weight > 0)
        variance = np.where(weight > 0, 1.0 / np.where(weight > 0, weight, 1.0), np.nan)
        gains = [header.get(k) for k in ("GAINA", "GAINB") if header.get(k)]
        epu = float(np.mean(gains))
        sat = min(header.get(k, np.inf) for k in ("SATURATA", "SATURATB"))
        fields.update(unit="adu", gain=epu, read_noise=header.get("RDNOISEA"), exptime=header.get("EXPTIME"),
                      saturation=float(sat) if np.isfinite(sat) else None, dq=dq)
        meta["note"] = "CP InstCal cutout in ADU (checked: 1/oow = data/GAIN + (RDNOISE/GAIN)**2)"
    else:
        unit = src.unit or header.get("BUNIT")
        if unit is not None and unit.lower().replace(" ", "") in ("electron/s", "electrons/s", "e-/s"):
            unit = "electron/s"
        exptime = header.get("EXPTIME")
        epu = float("nan")
        if src.kind in ("hst", "rms") and exptime:
            # HST drizzled products here are electrons/s (the COSMOS header says ELECTRONS, but its
            # noise of ~0.004 at 4056 s is only possible per second)
            unit, epu = "electron/s", float(exptime)
        if src.kind == "rms":
            rms = read_fits_plane(root / src.extra)[0]
            variance = rms ** 2
        else:
            variance = _robust_variance(data, bad, epu)
        fields.update(unit=unit, exptime=float(exptime) if exptime else None)
    meta["electrons_per_unit"] = epu
    return as_image(data, mask=bad, variance=variance, name=src.name, meta=meta, **fields)


def _crop(img: Image, src: _Source, split: str) -> Image:
    if src.split != "columns":
        return img
    stop, start = src.columns
    sl = slice(0, stop) if split == "train" else slice(start, None)
    label = f"[:, {sl.start}:{'' if sl.stop is None else sl.stop}]"
    return img.replace(
        data=img.data[:, sl].copy(), mask=img.mask[:, sl].copy(),
        variance=None if img.variance is None else img.variance[:, sl].copy(),
        dq=None if img.dq is None else img.dq[:, sl].copy(), header=None, wcs=None,
        name=img.name + label, meta={**img.meta, "region": label},
    )


def _sources(flavour, split):
    if flavour not in FLAVOURS:
        raise AstrocleanKeyError(f"unknown flavour {flavour!r}; choose one of {', '.join(FLAVOURS)}")
    if split not in ("train", "benchmark"):
        raise AstrocleanKeyError(f"unknown split {split!r}; choose 'train' or 'benchmark'")
    return [s for s in CATALOGUE if s.flavour == flavour and s.split in (split, "columns")]


def _to_arrays(img: Image) -> dict:
    meta = {"name": img.name, "unit": img.unit, "gain": img.gain, "read_noise": img.read_noise,
            "exptime": img.exptime, "saturation": img.saturation, **img.meta}
    return {"data": img.data.astype(np.float32), "variance": img.variance.astype(np.float32),
            "mask": img.mask, "meta": np.array(json.dumps(meta, sort_keys=True, default=float))}


def _from_arrays(a: dict) -> Image:
    meta = json.loads(str(a["meta"]))
    fields = {k: meta.pop(k) for k in ("name", "unit", "gain", "read_noise", "exptime", "saturation")}
    return as_image(a["data"], mask=a["mask"], variance=a["variance"], meta=meta, **fields)


def load_backgrounds(flavour: str, split: str, *, data_dir=None) -> list:
    """Real background frames of one flavour and split, each with a variance plane.

    Parameters
    ----------
    flavour : {"space", "ground", "crowded"}
    split : {"train", "benchmark"}
        Disjoint: whole frames (or sky fields) are held out where possible,
        single big frames are split by columns (see the module notes).
    data_dir : str or Path, optional
        Real-data folder for the training split (default
        ``$ASTROCLEAN_DATA_DIR``). The benchmark split
        is read from the package and needs no data folder.

    Returns
    -------
    list of Image
        Native units; ``variance`` always set; ``meta["electrons_per_unit"]``.

    Raises
    ------
    AstrocleanKeyError
        Unknown flavour or split.
    AstrocleanFileError
        The data folder (train) or the shipped files (benchmark) are missing.

    Example
    -------
    >>> imgs = load_backgrounds("ground", "benchmark")
    >>> sorted({i.unit for i in imgs})
    ['adu', 'nanomaggy']
    """
    sources = _sources(flavour, split)
    if split == "benchmark":
        folder = BENCHMARK_DIR / flavour
        out = []
        for src in sources:
            path = folder / f"{src.name}.npz"
            if not path.is_file():
                raise AstrocleanFileError(
                    f"shipped benchmark background {path} is missing; rebuild it with "
                    "`python scripts/build_cr_library.py --data-dir DATA_DIR`"
                )
            out.append(_from_arrays(load_npz(path)))
        return out
    root = resolve_data_dir(data_dir, need=f"training backgrounds of flavour {flavour!r}")
    return [_crop(_read_source(src, root), src, split) for src in sources]


def write_benchmark_backgrounds(*, data_dir=None, out_dir=None, overwrite: bool = False) -> list:
    """Write the benchmark backgrounds of every flavour as ``.npz`` package data.

    A maintainer's tool, run by ``scripts/build_cr_library.py``; returns the
    paths written (``<out_dir>/<flavour>/<name>.npz``).
    """
    root = resolve_data_dir(data_dir, need="benchmark backgrounds")
    out_dir = Path(out_dir) if out_dir is not None else BENCHMARK_DIR
    paths = []
    for flavour in FLAVOURS:
        for src in _sources(flavour, "benchmark"):
            img = _crop(_read_source(src, root), src, "benchmark")
            paths.append(save_npz(out_dir / flavour / f"{src.name}.npz", _to_arrays(img),
                                         overwrite=overwrite))
    return paths
