"""Build the vendored WFC3/UVIS magnitude tables of the cluster slice (deterministic).

    pip install -e .[build-clusters]        # astro-sedpy, pyphot (build only)
    python scripts/build_cluster_tables.py --data-dir ../shared/data

Writes ``src/astroclean/clusters/data/wfc3_uvis_tables.npz``:

* full-system throughputs of F336W, F438W, F814W. F336W and F814W are sedpy's STScI
  full-system curves (UVIS1). F438W has no full-system curve in sedpy: it is pyphot's F438W
  *filter* curve times the UVIS system response (OTA x detector QE x window), measured as
  sedpy-full-system / pyphot-filter in the neighbouring bands F336W, F390W, F475W, F555W and F606W
  (where each filter passes > 50 % of its peak), median-binned in 25 A bins and interpolated.
  Leave-one-out check: the same route rebuilds F475W from the other bands; its Vega zero point
  and the colours of CK04 stars are printed (agreement to a few millimag).
* Vega count-rate zero points (HST collecting area 45239 cm^2) and the ST magnitude of Vega.
* CK04 absolute Vega magnitudes for L = 1 Lsun per (Teff, log g, [M/H]) and extinction
  coefficients A_band / A_V at A_V = 1 and 3 (Cardelli et al. 1989, R_V = 3.1), per star.
* the PARSEC Z = 0.020 isochrones mapped to absolute magnitudes and per-star coefficients
  ([M/H] = +0.2 atmospheres, the nearest to Z = 0.020), for log age 5.9-10.1.
* SSP magnitudes per solar mass (Kroupa 0.08-120 Msun) on a (log age, A_V) grid.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from astroclean.clusters.stellar import ccm89, kroupa_number_and_mass, photon_integral  # noqa: E402

BANDS = ("F336W", "F438W", "F814W")
AREA_CM2 = 45239.0
H_C = 6.62607015e-27 * 2.99792458e18          # erg * Angstrom / s
L_SUN = 3.828e33
SIGMA_SB = 5.670374e-5
PC_CM = 3.0856776e18
MBOL_SUN = 4.74
GRID = np.arange(1500.0, 11500.0, 5.0)


def sedpy_curve(name):
    import sedpy.observate as ob
    f = ob.Filter(name)
    return np.interp(GRID, f.wavelength, f.transmission, left=0.0, right=0.0)


def pyphot_curve(name):
    import pyphot
    f = pyphot.get_library()[name]
    return np.interp(GRID, np.asarray(f.wavelength.to("AA").value), np.asarray(f.transmit), left=0.0, right=0.0)


def system_response(exclude=()):
    """UVIS system response (full system / filter) from the bands that have both curves."""
    waves, ratios = [], []
    for band in ("F336W", "F390W", "F475W", "F555W", "F606W"):
        if band in exclude:
            continue
        full, filt = sedpy_curve(f"wfc3_uvis_{band.lower()}"), pyphot_curve(f"HST_WFC3_{band}")
        sel = filt > 0.5 * filt.max()
        waves.append(GRID[sel])
        ratios.append(full[sel] / filt[sel])
    w, r = np.concatenate(waves), np.concatenate(ratios)
    edges = np.arange(w.min(), w.max() + 25, 25.0)
    idx = np.digitize(w, edges)
    cw = np.array([np.median(w[idx == i]) for i in np.unique(idx)])
    cr = np.array([np.median(r[idx == i]) for i in np.unique(idx)])
    return np.interp(GRID, cw, cr)


def throughputs():
    curves = {"F336W": sedpy_curve("wfc3_uvis_f336w"), "F814W": sedpy_curve("wfc3_uvis_f814w")}
    curves["F438W"] = pyphot_curve("HST_WFC3_F438W") * system_response()
    return np.stack([curves[b] for b in BANDS])


def vega():
    import sedpy
    path = os.path.join(os.path.dirname(sedpy.__file__), "data", "alpha_lyr_stis_011.fits")
    data = fits.getdata(path, 1)
    return np.asarray(data["WAVELENGTH"], float), np.asarray(data["FLUX"], float)


def load_ck04(root: Path, prefix: str):
    """(teff, logg, wavelength, flux[n_teff, n_logg, n_wave]) with empty log g filled from the nearest valid one."""
    files = sorted((root / prefix).glob(f"{prefix}_*.fits"), key=lambda p: int(p.stem.split("_")[1]))
    teff = np.array([int(p.stem.split("_")[1]) for p in files], float)
    loggs = np.arange(0.0, 5.01, 0.5)
    wave, flux = None, []
    for path in files:
        data = fits.getdata(path, 1)
        wave = np.asarray(data["WAVELENGTH"], float)
        cols = np.stack([np.asarray(data[f"g{int(round(g * 10)):02d}"], float) for g in loggs])
        valid = np.where(cols.max(axis=1) > 0)[0]
        for j in range(len(loggs)):
            if j not in valid:
                cols[j] = cols[valid[np.argmin(np.abs(valid - j))]]
        flux.append(cols)
    return teff, loggs, wave, np.stack(flux)


def magnitudes_for_lsun(teff, wave, flux, curves, vega_int):
    """Absolute Vega magnitudes of a 1 Lsun star with these surface fluxes, and A_b/A_V at A_V = 1, 3."""
    n_t, n_g, _ = flux.shape
    spec = flux.reshape(-1, flux.shape[-1])
    t_rep = np.repeat(teff, n_g)
    dilution = L_SUN / (4 * np.pi * SIGMA_SB * t_rep**4) / (10 * PC_CM) ** 2     # R^2 / (10 pc)^2
    mags, k1, k3 = [], [], []
    for b, curve in enumerate(curves):
        base = photon_integral(wave, spec, GRID, curve)
        mags.append(-2.5 * np.log10(base * dilution / vega_int[b]))
        red = ccm89(GRID)
        for av, out in ((1.0, k1), (3.0, k3)):
            ext = photon_integral(wave, spec, GRID, curve * 10 ** (-0.4 * av * red))
            out.append(-2.5 * np.log10(ext / base) / av)
    shape = (n_t, n_g, len(curves))
    return (np.stack(mags, -1).reshape(shape), np.stack(k1, -1).reshape(shape), np.stack(k3, -1).reshape(shape))


def interp_grid(teff_grid, logg_grid, values, teff, logg):
    """Bilinear interpolation of values[n_t, n_g, k] in (log Teff, log g), clamped to the grid."""
    lt = np.log10(teff_grid)
    x = np.clip(np.log10(teff), lt[0], lt[-1])
    g = np.clip(logg, logg_grid[0], logg_grid[-1])
    i = np.clip(np.searchsorted(lt, x) - 1, 0, len(lt) - 2)
    j = np.clip(np.searchsorted(logg_grid, g) - 1, 0, len(logg_grid) - 2)
    fx = ((x - lt[i]) / (lt[i + 1] - lt[i]))[:, None]
    fg = ((g - logg_grid[j]) / (logg_grid[j + 1] - logg_grid[j]))[:, None]
    return ((1 - fx) * (1 - fg) * values[i, j] + fx * (1 - fg) * values[i + 1, j]
            + (1 - fx) * fg * values[i, j + 1] + fx * fg * values[i + 1, j + 1])


def imf_weights(mini):
    """Number of stars per Msun represented by each isochrone point (mid-point bins in initial mass)."""
    edges = np.concatenate([[mini[0]], 0.5 * (mini[1:] + mini[:-1]), [mini[-1]]])
    return np.array([kroupa_number_and_mass(lo, hi)[0] for lo, hi in zip(edges[:-1], edges[1:])])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("ASTROCLEAN_DATA_DIR", "../shared/data"))
    parser.add_argument("-o", "--output", default=str(Path(__file__).resolve().parents[1]
                                                       / "src/astroclean/clusters/data/wfc3_uvis_tables.npz"))
    args = parser.parse_args(argv)
    root = Path(args.data_dir) / "stellar_populations"

    curves = throughputs()
    vw, vf = vega()
    vega_int = photon_integral(vw, vf, GRID, curves[0])[0], photon_integral(vw, vf, GRID, curves[1])[0], \
        photon_integral(vw, vf, GRID, curves[2])[0]
    vega_int = np.array(vega_int)
    zp = 2.5 * np.log10(AREA_CM2 * vega_int / H_C)                         # Vega mag giving 1 e-/s
    norm = np.trapezoid(curves * GRID, GRID, axis=-1)
    pivot = np.sqrt(np.trapezoid(curves * GRID, GRID, axis=-1) / np.trapezoid(curves / GRID, GRID, axis=-1))
    m_st_vega = -2.5 * np.log10(vega_int / norm) - 21.10
    print("Vega count-rate zero points (mag for 1 e-/s):", dict(zip(BANDS, np.round(zp, 3))))
    # zero points of the bands of the real UVIS background cutouts (F475W, F606W), for their band mapping
    zp_bg = np.array([2.5 * np.log10(AREA_CM2 * photon_integral(vw, vf, GRID, sedpy_curve(f"wfc3_uvis_{b}"))[0] / H_C)
                      for b in ("f475w", "f606w")])
    print("Vega zero points F475W, F606W:", np.round(zp_bg, 3))
    print("pivot wavelengths [A]:", dict(zip(BANDS, np.round(pivot, 1))))

    # leave-one-out check of the F438W route on F475W
    t475 = pyphot_curve("HST_WFC3_F475W") * system_response(exclude=("F475W",))
    s475 = sedpy_curve("wfc3_uvis_f475w")
    zp_rebuilt = 2.5 * np.log10(AREA_CM2 * photon_integral(vw, vf, GRID, t475)[0] / H_C)
    zp_true = 2.5 * np.log10(AREA_CM2 * photon_integral(vw, vf, GRID, s475)[0] / H_C)
    print(f"leave-one-out F475W: rebuilt zero point {zp_rebuilt:.3f}, sedpy full-system {zp_true:.3f}")

    grids = {}
    for prefix, mh in (("ckm05", -0.5), ("ckp00", 0.0), ("ckp02", 0.2)):
        teff, loggs, wave, flux = load_ck04(root / "ck04_atmospheres", prefix)
        grids[mh] = (teff, loggs, *magnitudes_for_lsun(teff, wave, flux, curves, vega_int))
        if mh == 0.0:
            sw, sf = vw, vf
            loo = [photon_integral(wave, flux[k, 8], GRID, t475)[0] / photon_integral(wave, flux[k, 8], GRID, s475)[0]
                   for k in range(0, len(teff), 10)]
            print("leave-one-out F475W, CK04 log g 4 stars: rebuilt - true colour spread [mag]:",
                  np.round(np.ptp(-2.5 * np.log10(loo)), 4))
    teff, loggs, mag_lsun, k1, k3 = grids[0.2]

    iso = np.loadtxt(root / "parsec_isochrones" / "isoc_z0.0200.dat", comments="#")
    iso = iso[(iso[:, 0] >= 5.89) & (iso[:, 0] <= 10.11)]
    logage, mini, mact, logl, logt, logg = (iso[:, i] for i in range(6))
    t = 10**logt
    star_mag = interp_grid(teff, loggs, mag_lsun, t, logg) - 2.5 * logl[:, None]
    hot = t > teff[-1]                                   # Rayleigh-Jeans extension above 50 kK
    star_mag[hot] += 7.5 * np.log10(t[hot] / teff[-1])[:, None]
    star_k1 = interp_grid(teff, loggs, k1, t, logg)
    star_k3 = interp_grid(teff, loggs, k3, t, logg)

    ages = np.unique(logage)
    av_grid = np.round(np.arange(0.0, 4.01, 0.05), 3)
    ssp = np.zeros((len(ages), len(av_grid), len(BANDS)))
    for a, age in enumerate(ages):
        sel = logage == age
        w = imf_weights(mini[sel])
        for v, av in enumerate(av_grid):
            k = star_k1[sel] + (star_k3[sel] - star_k1[sel]) * (av - 1.0) / 2.0
            ssp[a, v] = -2.5 * np.log10((w[:, None] * 10 ** (-0.4 * (star_mag[sel] + av * k))).sum(0))
    print("SSP colours at A_V=0, log age 6.5/7/8/9 (F336W-F438W, F438W-F814W):",
          [tuple(np.round([ssp[np.argmin(abs(ages - x)), 0, 0] - ssp[np.argmin(abs(ages - x)), 0, 1],
                           ssp[np.argmin(abs(ages - x)), 0, 1] - ssp[np.argmin(abs(ages - x)), 0, 2]], 3))
           for x in (6.5, 7.0, 8.0, 9.0)])

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    f32 = np.float32
    np.savez_compressed(
        out, bands=np.array(BANDS), wavelength=GRID.astype(f32), throughput=curves.astype(f32),
        vega_zeropoint=zp, vega_zeropoint_f475w_f606w=zp_bg, st_mag_of_vega=m_st_vega, pivot=pivot, hst_area_cm2=AREA_CM2,
        ck04_teff=teff, ck04_logg=loggs, ck04_mh=np.array(sorted(grids)),
        ck04_mag_lsun=np.stack([grids[m][2] for m in sorted(grids)]).astype(f32),
        ck04_k_av1=np.stack([grids[m][3] for m in sorted(grids)]).astype(f32),
        ck04_k_av3=np.stack([grids[m][4] for m in sorted(grids)]).astype(f32),
        iso_z=0.020, iso_logage=logage.astype(f32), iso_mini=mini.astype(f32), iso_mact=mact.astype(f32),
        iso_mag=star_mag.astype(f32), iso_k_av1=star_k1.astype(f32), iso_k_av3=star_k3.astype(f32),
        ssp_logage=ages, ssp_av=av_grid, ssp_mag_per_msun=ssp,
        provenance=np.array("scripts/build_cluster_tables.py: CK04 (Castelli & Kurucz 2004), PARSEC Z=0.020 "
                            "(Bressan et al. 2012, via FSPS), sedpy UVIS full-system F336W/F814W, pyphot F438W "
                            "filter x derived UVIS system response, Vega alpha_lyr_stis_011, CCM89 R_V=3.1, "
                            "Kroupa 0.08-120 Msun"))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
