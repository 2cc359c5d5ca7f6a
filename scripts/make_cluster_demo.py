"""Realistic three-band demo fields with injected clusters, for the CLI (files under runs/).

    python scripts/make_cluster_demo.py -o runs/clusters_fields
    astroclean clusters runs/clusters_fields -o runs/clusters_fields/out --workers 2

Two fields, ``horseshoe_north`` and ``horseshoe_south``: the two halves (y < 250, y >= 250) of the
held-out (right, x >= 250) half of the real WFC3/UVIS Cosmic Horseshoe cutouts, band-mapped as in
:mod:`astroclean.clusters.simulate.backgrounds`, each with 10 mock clusters (EFF and King profiles,
truth in ``<field>_truth.csv``) and 2 empty positions in ``<field>_catalog.csv`` (x, y for the north
field, RA/Dec for the south); headers carry FILTER, PHOTFLAM, PHOTPLAM, BUNIT and a 0.04"/px WCS.
A third, broken field, ``horseshoe_raw``, is the real HLA F475W, F606W, F814W drizzled cutouts
saved under F336W/F438W/F814W names, as a user who mixed up the filters would: astroclean must refuse
it with the reason and still process the other two.
"""

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from astroclean.clusters.inputs import model_photflam  # noqa: E402
from astroclean.clusters.simulate.backgrounds import real_backgrounds  # noqa: E402
from astroclean.clusters.simulate.mocks import PRIORS, cluster_signal  # noqa: E402
from astroclean.clusters.simulate.render import add_noise, load_psfs  # noqa: E402
from astroclean.clusters.tables import BANDS, tables  # noqa: E402
from astroclean.simulate.common import resolve_data_dir  # noqa: E402

STAMP = 112
HLA = "hst/wfc3_uvis_cosmic_horseshoe/hst_mos_1020228_wfc3_uvis_{}_drz_cutout_20asec.fits"


def make_field(field, name, out, *, rng, psfs, crval, n_clusters=10, n_empty=2, sky_catalog=False):
    """Inject clusters into ``field`` (3, y, x) e-/s, write the three FITS files, catalogue and truth."""
    signal = np.zeros_like(field)
    ny, nx = field.shape[1:]
    grid = [(x, y) for y in range(40, ny - 30, 55) for x in range(45, nx - 30, 80)]
    picks = rng.choice(len(grid), n_clusters + n_empty, replace=False)
    rows = []
    for n, g in enumerate(picks):
        x, y = grid[g][0] + rng.uniform(-0.5, 0.5), grid[g][1] + rng.uniform(-0.5, 0.5)
        if n >= n_clusters:
            rows.append((n + 1, x, y, 0, "", np.nan, np.nan, np.nan, np.nan))
            continue
        profile = "king" if n % 2 else "eff"
        shape = ({"concentration": rng.uniform(*PRIORS["concentration"])} if profile == "king"
                 else {"gamma": rng.uniform(*PRIORS["gamma"])})
        par = dict(log_age=rng.uniform(6.0, 8.5), log_mass=rng.uniform(3.7, 5.3), a_v=rng.uniform(0, 2.5),
                   r_eff_arcsec=10 ** rng.uniform(*PRIORS["log_r_eff"]), **shape)
        xi, yi = int(round(x)), int(round(y))
        half = STAMP // 2          # a stamp wider than the 48-px cutout: no square edge around bright haloes
        stamp = cluster_signal(STAMP, center=(half + x - xi, half + y - yi), rng=rng, psfs=psfs, profile=profile, **par)
        y0, x0 = yi - half, xi - half
        ys, xs = max(0, -y0), max(0, -x0)
        ye, xe = min(STAMP, ny - y0), min(STAMP, nx - x0)
        signal[:, y0 + ys:y0 + ye, x0 + xs:x0 + xe] += stamp[:, ys:ye, xs:xe]
        rows.append((n + 1, x, y, 1, profile, par["log_age"], par["log_mass"], par["a_v"], par["r_eff_arcsec"]))
    noisy, _ = add_noise(np.clip(field, 0, None) + signal, rng=rng)
    noisy = noisy + (field - np.clip(field, 0, None))
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = crval
    w.wcs.crpix = [nx / 2, ny / 2]
    w.wcs.cdelt = [-0.04 / 3600, 0.04 / 3600]
    for b, band in enumerate(BANDS):
        h = w.to_header()
        h.update(FILTER=band, BUNIT="ELECTRONS/S", PHOTFLAM=model_photflam(band), PHOTPLAM=float(tables().pivot[b]),
                 INSTRUME="WFC3", DETECTOR="UVIS", COMMENT="astroclean demo: real UVIS background + mock clusters")
        fits.PrimaryHDU(noisy[b].astype(np.float32), header=h).writeto(out / f"{name}_{band.lower()}.fits",
                                                                       overwrite=True)
    if sky_catalog:
        sky = w.pixel_to_world([r[1] for r in rows], [r[2] for r in rows])
        text = "id,ra,dec\n" + "".join(f"{r[0]},{s.ra.deg:.7f},{s.dec.deg:.7f}\n" for r, s in zip(rows, sky))
    else:
        text = "id,x,y\n" + "".join(f"{r[0]},{r[1]:.2f},{r[2]:.2f}\n" for r in rows)
    (out / f"{name}_catalog.csv").write_text(text)
    (out / f"{name}_truth.csv").write_text("id,x,y,is_cluster,profile,log_age,log_mass,a_v,r_eff_arcsec\n" + "".join(
        ",".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + "\n" for r in rows))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("-o", "--output", default="runs/clusters_fields")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(77)
    held_out = real_backgrounds(args.data_dir)["uvis"][:, :, 250:].astype(float)    # test half, 500 x 250
    psfs = load_psfs(args.data_dir)
    make_field(held_out[:, :250], "horseshoe_north", out, rng=rng, psfs=psfs, crval=[204.2538, -29.8630])
    make_field(held_out[:, 250:], "horseshoe_south", out, rng=rng, psfs=psfs, crval=[204.2538, -29.8686],
               sky_catalog=True)
    root = resolve_data_dir(args.data_dir, need="WFC3/UVIS cutouts")
    for real, band in zip(("f475w", "f606w", "f814w"), BANDS):       # the broken field: real files, wrong filters
        shutil.copy(root / HLA.format(real), out / f"horseshoe_raw_{band.lower()}.fits")
    shutil.copy(out / "horseshoe_north_catalog.csv", out / "horseshoe_raw_catalog.csv")
    print(f"wrote {out}: horseshoe_north, horseshoe_south (three bands, catalogue, truth each) and the broken "
          "field horseshoe_raw")


if __name__ == "__main__":
    main()
