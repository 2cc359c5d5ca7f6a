"""The compact-source removal benchmark: photometry, background texture and pixel statistics against the truth.

On held-out simulated far-infrared maps (real and synthetic backgrounds with
injected PACS PSFs of known flux, :func:`make_source_maps` with
``split="benchmark"``), sources are removed at their injected positions
with :func:`astroclean.sources.remove.remove_compact_sources`, then:

- photometry (:func:`astroclean.sources.photometry.measure_sources`) of
  what was removed, and the classical annulus-subtracted aperture flux on
  the input map; the ratio of measured to injected flux per flux level
  (median and interquartile range), judged only for sources above the
  detection limit (injected peak S/N >= ``snr_limit``; see
  :func:`injected_snr`), the rest listed and marked;
- the azimuthally averaged power spectra of the true and predicted
  backgrounds and of their difference, per map and per scale (NaN / no
  coverage weighted out with a cosine taper, :func:`spectra_per_map`);
- the pixel statistics of (predicted - true) background and of the true
  background in the holes, in units of each map's noise;
- throughput: wall seconds of ``remove_compact_sources`` over the maps
  (after one warm-up call that loads the model), as sources per second;
- gamma Dra (:mod:`astroclean.sources.evaluate.gamma`) against its calibration fluxes.

:func:`run_sources_benchmark` takes the maps and the removal function, so
tests can run it on stand-ins; :func:`sources_benchmark` builds the real
inputs. The report (tables, plots, docs page) is written by
:mod:`astroclean.sources.evaluate.report`.

Example
-------
>>> from astroclean.sources.evaluate.benchmark import injected_snr
>>> class Psf:
...     array = np.full((3, 3), 1 / 9)
>>> round(float(injected_snr(0.9, 0.01, Psf())), 6)
10.0
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.metrics.statistics import pixel_statistics, power_spectrum
from astroclean.sources.evaluate.summary import TARGETS, evaluate_targets, summarise_levels, summarise_spectra

__all__ = ["SourcesBenchmark", "run_sources_benchmark", "sources_benchmark", "flux_levels", "injected_snr",
           "spectra_per_map", "summarise_levels", "summarise_spectra", "FLUX_EDGES", "SPECTRUM_EDGES", "TARGETS"]

#: Flux levels (Jy): half-decade bins spanning the injected range 0.01-40 Jy.
FLUX_EDGES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 40.0)
#: Power-spectrum scales: 12 log-spaced bins from 1/128 to 1/2 cycles per pixel (128 to 2 pixels).
SPECTRUM_EDGES = tuple(np.geomspace(1 / 128, 0.5, 13).tolist())
#: Taper (pixels) of the power spectra at the map border and around no-coverage pixels.
APODISE = 8.0


@dataclass(frozen=True)
class SourcesBenchmark:
    """Everything the sources benchmark measured (tables are astropy Tables).

    Attributes
    ----------
    sources : Table
        One row per injected source: map, true flux and S/N, level, above
        the limit or not, photometry of both methods at every radius, flags.
    levels : Table
        Per flux level and population (``S/N >= limit`` or below): n, median
        and IQR of the flux ratio for the network and the annulus method.
    spectra : Table
        Per scale: k range, median power of true, predicted and difference,
        median and worst map of ``P_pred / P_true - 1``.
    pixels : Table
        Pixel statistics in the holes, one row per quantity.
    gamma_dra : Table or None
        Per map: band, calibration, fluxes and ratios of both methods.
    throughput : dict
        ``n_sources``, ``seconds``, ``sources_per_second``, ``n_maps``.
    targets : list of dict
        ``name, value, goal, passed`` (None when not measurable), with a note.
    example : dict
        Cutout arrays for the example panel.
    meta : dict
    notes : list of str
    """

    sources: object
    levels: object
    spectra: object
    pixels: object
    gamma_dra: object
    throughput: dict
    targets: list
    example: dict
    meta: dict
    notes: list = field(default_factory=list)


def flux_levels(flux, *, edges=FLUX_EDGES, max_levels: int = 16) -> np.ndarray:
    """The level (Jy) of each flux: the flux itself when there are at most ``max_levels`` distinct values
    (discrete injection levels), else the geometric centre of its bin of ``edges`` (NaN outside them).

    Examples
    --------
    >>> flux_levels([0.1, 0.1, 3.0]).tolist()
    [0.1, 0.1, 3.0]
    >>> np.round(flux_levels(np.geomspace(0.02, 20, 40), edges=(0.01, 1.0, 100.0)), 3)[[0, -1]].tolist()
    [0.1, 10.0]
    """
    flux = np.asarray(flux, float)
    if np.unique(flux[np.isfinite(flux)]).size <= max_levels:
        return flux.copy()
    edges = np.asarray(edges, float)
    index = np.searchsorted(edges, flux, side="right") - 1
    index = np.where(flux == edges[-1], edges.size - 2, index)
    inside = (index >= 0) & (index < edges.size - 1)
    centre = np.sqrt(edges[:-1] * edges[1:])
    return np.where(inside, centre[np.clip(index, 0, edges.size - 2)], np.nan)


def injected_snr(flux, noise, psf) -> np.ndarray:
    """Injected peak S/N: ``flux x max(PSF stamp) / noise`` (the central pixel of a centred source)."""
    return np.asarray(flux, float) * float(np.max(psf.array)) / float(noise)


def _truth_parts(truth):
    """(table, background image, noise) from a SourceTruth whose ``background`` is an array or a Background."""
    from astroclean.background import robust_sigma

    bkg = truth.background
    image = np.asarray(getattr(bkg, "image", bkg), dtype=np.float64)
    meta = getattr(truth, "meta", None) or {}
    noise = getattr(truth, "noise", None) or getattr(bkg, "noise", None) or meta.get("noise")
    if noise is None:  # robust pixel noise of the background's pixel-to-pixel differences
        noise = robust_sigma(np.diff(image, axis=1)) / math.sqrt(2)
    return truth.table, image, float(noise)


def spectra_per_map(true, predicted, *, mask=None, hole=None, edges=SPECTRUM_EDGES, apodise=APODISE) -> dict:
    """Power spectra of the true and predicted backgrounds and of their difference on one map.

    Pixels that are NaN in either map or masked get weight 0 and the
    weights are tapered (cosine, ``apodise`` pixels) from them and from the
    border: the same weights for every spectrum, so the leakage of the
    window is common to them. With ``hole`` (the replaced pixels) the
    spectrum of the *oracle* -- the predicted map with the true background
    in the holes -- is added: what a perfect inpainting would score, the
    PSF wings left outside the holes included.

    Returns
    -------
    dict
        ``k, p_true, p_pred, p_diff`` and, with ``hole``, ``p_oracle``.
    """
    true = np.asarray(true, np.float64)
    predicted = np.asarray(predicted, np.float64)
    bad = ~(np.isfinite(true) & np.isfinite(predicted))
    if mask is not None:
        bad |= mask
    bins = np.asarray(edges)
    maps = {"p_true": true, "p_pred": predicted, "p_diff": predicted - true}
    if hole is not None:
        maps["p_oracle"] = np.where(hole, true, predicted)
    out = {}
    for key, image in maps.items():
        out["k"], out[key] = power_spectrum(image, mask=bad, bins=bins, apodise=apodise)
    return out


def _example(image, background, true, x, y, size=48):
    """Cutouts (input, predicted background, true background, residual) around (x, y)."""
    from astroclean.sources.cutouts import extract_cutouts

    parts = [extract_cutouts(a.astype(np.float32), [x], [y], size=size).data[0]
             for a in (image, background, true)]
    return {"input": parts[0], "predicted": parts[1], "true": parts[2], "residual": parts[1] - parts[2]}


def run_sources_benchmark(maps, remove, *, psf, noise=None, snr_limit: float = 5.0, edges=FLUX_EDGES, radii=None,
                          annulus=None, log=None) -> SourcesBenchmark:
    """Run removal and photometry on ``maps`` and compare with the truth (no gamma Dra; see :func:`sources_benchmark`).

    Parameters
    ----------
    maps : list of (image, truth)
        As returned by ``make_source_maps``: ``truth.table`` with ``x, y,
        flux``; ``truth.background`` (array or Background with ``image``
        and ``noise``).
    remove : callable
        ``remove(image, x, y) -> result`` with ``result.background`` (map)
        and ``result.hole`` (bool map); ``result.table`` may give ``snr``,
        ``radius`` (or ``mask_radius``) and ``status`` per source.
    psf : Psf
        Of the band (``array``, ``encircled_energy``, ``fwhm_pixels``).
    noise : sequence of float, optional
        Pixel noise of each map (Jy/pixel; the background's ``noise``);
        default: estimated from the true background's pixel differences.
    snr_limit : float
        Detection limit on the injected S/N (:func:`injected_snr`).
    edges : sequence of float
        Flux bins (Jy) when the injected fluxes are not a few discrete levels (:func:`flux_levels`).
    radii, annulus : optional
        Passed to :func:`measure_sources` (defaults there).
    log : callable, optional

    Returns
    -------
    SourcesBenchmark
    """
    from astropy.table import Table, vstack

    from astroclean.sources.photometry import DEFAULT_ANNULUS, DEFAULT_RADII, measure_sources

    say = log or (lambda message: None)
    if not maps:
        raise AstrocleanValueError("run_sources_benchmark needs at least one (image, truth) map")
    radii = DEFAULT_RADII if radii is None else radii
    annulus = DEFAULT_ANNULUS if annulus is None else annulus
    x0 = np.asarray(maps[0][1].table["x"], float)
    y0 = np.asarray(maps[0][1].table["y"], float)
    remove(np.asarray(maps[0][0]), x0[:1], y0[:1])  # warm-up: model loading is not throughput
    tables, spectra, diffs, trues, seconds, n_sources = [], [], [], [], 0.0, 0
    example, best = {}, math.inf
    for i, (image, truth) in enumerate(maps):
        table, true_bkg, noise_i = _truth_parts(truth)
        noise_i = noise_i if noise is None else float(noise[i])
        x, y, flux = (np.asarray(table[c], float) for c in ("x", "y", "flux"))
        image = np.asarray(image)
        start = time.perf_counter()
        result = remove(image, x, y)
        seconds += time.perf_counter() - start
        n_sources += x.size
        rt = getattr(result, "table", None)

        def column(*names, default=None, rt=rt):
            for name in names:
                if rt is not None and name in rt.colnames:
                    return np.asarray(rt[name])
            return default

        status = column("status", "flag")
        if status is not None:  # only positions the removal skipped; its photometry flags are re-measured here
            status = status.astype(str)
            status = np.where(np.char.startswith(np.char.strip(status), "skipped"), status, "ok")
        phot = measure_sources(image, result.background, x, y, psf=psf, radii=radii, annulus=annulus,
                               error=noise_i, hole=np.asarray(result.hole, bool), status=status,
                               mask_radius=column("radius", "mask_radius"), snr=column("snr"))
        phot["map"] = np.full(len(phot), i)
        name = (getattr(truth, "meta", None) or {}).get("background") or getattr(truth.background, "name", "map")
        phot["map_name"] = np.full(len(phot), f"{i}:{name}")
        phot["flux_true"] = flux
        phot["snr_true"] = injected_snr(flux, noise_i, psf)
        phot["noise"] = np.full(len(phot), noise_i)
        tables.append(phot)
        hole = np.asarray(result.hole, bool)
        pred = np.asarray(result.background, np.float64)
        good = hole & np.isfinite(true_bkg) & np.isfinite(pred)
        diffs.append((pred - true_bkg)[good] / noise_i)
        trues.append((true_bkg[good] - np.nanmedian(true_bkg)) / noise_i)
        spectra.append(dict(spectra_per_map(true_bkg, pred, hole=hole), map=f"{i}:{name}"))
        snr = phot["snr_true"]
        ok = np.flatnonzero((np.asarray(phot["flag"]) == "ok") & (snr >= 20))
        if ok.size:  # the example: the measured source closest to S/N 50
            j = ok[np.argmin(np.abs(np.log(snr[ok] / 50)))]
            if abs(math.log(snr[j] / 50)) < best:
                best = abs(math.log(snr[j] / 50))
                example = dict(_example(image, pred, true_bkg, x[j], y[j]), map=i, x=float(x[j]), y=float(y[j]),
                               flux=float(flux[j]), snr=float(snr[j]))
        say(f"map {i + 1}/{len(maps)}: {x.size} sources, {np.count_nonzero(hole)} hole pixels")
    sources = vstack(tables, metadata_conflicts="silent")
    sources.meta.update(tables[0].meta)
    sources["level_flux"] = flux_levels(sources["flux_true"], edges=edges)
    sources["above_limit"] = np.asarray(sources["snr_true"]) >= snr_limit
    with np.errstate(invalid="ignore", divide="ignore"):
        sources["ratio"] = sources["flux"] / sources["flux_true"]
        sources["ratio_annulus"] = sources["flux_annulus"] / sources["flux_true"]
    pooled_diff, pooled_true = np.concatenate(diffs), np.concatenate(trues)
    pixels = Table(rows=[{"quantity": name, **pixel_statistics(values)} for name, values in
                         (("(predicted - true) / noise", pooled_diff),
                          ("(true - map median) / noise", pooled_true))])
    pixels.meta["description"] = "pixels in the holes of all maps pooled, in units of each map's pixel noise"
    throughput = {"n_sources": int(n_sources), "n_maps": len(maps), "seconds": seconds,
                  "sources_per_second": n_sources / seconds if seconds > 0 else math.nan}
    levels = summarise_levels(sources, snr_limit=snr_limit)
    spec = summarise_spectra(spectra, edges=SPECTRUM_EDGES)
    first = tables[0].meta
    meta = {"snr_limit": snr_limit, "flux_edges": list(edges), "reference_radius": first.get("reference_radius"),
            "radii_pixels": first.get("radii_pixels"), "annulus_pixels": first.get("annulus_pixels"),
            "n_maps": len(maps), "apodise": APODISE}
    return SourcesBenchmark(sources=sources, levels=levels, spectra=spec, pixels=pixels, gamma_dra=None,
                            throughput=throughput, targets=evaluate_targets(levels, spec, None, throughput),
                            example=example, meta=meta)


def sources_benchmark(*, model="pacs-blue", band: str = "blue", mode: str = "scan", n_maps: int = 48,
                      per_level: int = 6, rng=0, device=None, batch_size: int = 64, snr_limit: float = 5.0,
                      data_dir=None, allow_untrained: bool = False, log=None) -> SourcesBenchmark:
    """The full benchmark: held-out maps from :func:`make_source_maps`, ``remove_compact_sources``, gamma Dra.

    Parameters
    ----------
    model : str or torch.nn.Module
        Registered compact-source model (``astroclean models``), or a
        module with a ``card`` (e.g. an untrained ``create_model(...,
        pretrained=False)`` for a smoke test).
    band, mode : str
    n_maps, per_level : int
        Passed to ``make_source_maps`` (``split="benchmark"``).
    rng : int or Generator
        Seeds the injection (positions, angles, offsets).
    device : str, optional
    batch_size : int
    snr_limit : float
    data_dir : str or Path, optional
        Real-data folder for gamma Dra (else ``$ASTROCLEAN_DATA_DIR``);
        gamma Dra is skipped, with a note, when absent.
    allow_untrained : bool
        Accept an architecture without weights (random initialisation: the
        numbers then test the plumbing only, and the report says so).
    log : callable, optional

    Returns
    -------
    SourcesBenchmark
    """
    from dataclasses import replace

    from astroclean.simulate.common import resolve_data_dir
    from astroclean.sources.simulate.maps import make_source_maps
    from astroclean.sources.simulate.fields import far_ir_backgrounds
    from astroclean.instruments.pacs import load_pacs_psf
    from astroclean.sources.masks import PIXEL_SCALE_ARCSEC
    from astroclean.sources.remove import remove_compact_sources
    from astroclean.sources.evaluate.gamma import gamma_dra_photometry

    from astroclean.sources.remove import load_source_model

    say = log or (lambda message: None)
    if isinstance(model, str) and allow_untrained:
        from astroclean.models.registry import create_model, get_card

        if get_card(model).weights_file is None:
            model = create_model(model, pretrained=False)
    net = load_source_model(model, device=device, batch_size=batch_size)  # once: loading is not part of the throughput
    name = net.card.name + ("" if isinstance(model, str) else " (given module)")
    say(f"making {n_maps} benchmark maps ({band}, {mode})...")
    maps = make_source_maps(n_maps, split="benchmark", band=band, mode=mode, rng=rng, per_level=per_level)
    noise_of = {b.name: b.noise for b in far_ir_backgrounds(split="benchmark", band=band, mode=mode)}
    noise = [noise_of[truth.meta["background"]] for _, truth in maps]
    psf = load_pacs_psf(band, pixel_scale_arcsec=PIXEL_SCALE_ARCSEC[(band, mode)])
    network_seconds = []

    def remove(image, x, y):
        result = remove_compact_sources(image, np.column_stack([x, y]), model=net, band=band, mode=mode,
                                        batch_size=batch_size, device=device)
        network_seconds.append(result.meta.get("seconds_network", math.nan))
        return result

    bench = run_sources_benchmark(maps, remove, psf=psf, noise=noise, snr_limit=snr_limit, log=say)
    notes = list(bench.notes)
    gamma = None
    try:
        folder = resolve_data_dir(data_dir) / "far_infrared" / "pacs_gamma_dra"
    except Exception as exc:  # no data folder: the rest of the benchmark stands
        folder, reason = None, str(exc)
    else:
        reason = f"{folder} not found"
    if folder is not None and folder.is_dir():
        gamma = gamma_dra_photometry(folder, model=net, model_band=band, device=device, log=say)
    else:
        notes.append(f"gamma Dra skipped: real-data folder absent ({reason})")
        say(notes[-1])
    throughput = dict(bench.throughput, network_seconds=float(np.nansum(network_seconds[1:])))
    import torch

    from astroclean.inference.device import select_device

    untrained = getattr(net.card, "weights_file", None) is None
    meta = dict(bench.meta, model=name, untrained=untrained, band=band, mode=mode, per_level=per_level, rng=str(rng),
                device=str(select_device(device)), batch_size=batch_size, threads=torch.get_num_threads())
    return replace(bench, gamma_dra=gamma, throughput=throughput, meta=meta, notes=notes,
                   targets=evaluate_targets(bench.levels, bench.spectra, gamma, throughput))
