"""A realistic three-band demo field with injected clusters, for the CLI (files under runs/).

    python scripts/make_cluster_demo.py -o runs/clusters_demo
    python -m astroclean.clusters.cli runs/clusters_demo/f336w.fits runs/clusters_demo/f438w.fits \
        runs/clusters_demo/f814w.fits --catalog runs/clusters_demo/catalog.csv -o runs/clusters_demo/out

The field is the held-out (right) half of the real WFC3/UVIS Cosmic Horseshoe cutouts (band mapping
of astroclean.clusters.simulate.backgrounds) with 16 mock clusters (truth in truth.csv) and
4 empty positions; headers carry FILTER, PHOTFLAM, PHOTPLAM, BUNIT and a 0.04"/px WCS.
"""

import argparse
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


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("-o", "--output", default="runs/clusters_demo")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(77)
    field = real_backgrounds(args.data_dir)["uvis"][:, :, 250:].astype(float)    # test half, 500 x 250
    signal = np.zeros_like(field)
    psfs = load_psfs(args.data_dir)
    rows = []
    grid = [(x, y) for y in range(40, 461, 60) for x in (45, 125, 205)]
    picks = rng.choice(len(grid), 20, replace=False)
    for n, g in enumerate(picks):
        x, y = grid[g][0] + rng.uniform(-0.5, 0.5), grid[g][1] + rng.uniform(-0.5, 0.5)
        if n >= 16:
            rows.append((n + 1, x, y, 0, np.nan, np.nan, np.nan, np.nan))
            continue
        par = dict(log_age=rng.uniform(6.0, 8.5), log_mass=rng.uniform(3.7, 5.3), a_v=rng.uniform(0, 2.5),
                   r_eff_arcsec=10 ** rng.uniform(*PRIORS["log_r_eff"]), gamma=rng.uniform(*PRIORS["gamma"]))
        xi, yi = int(round(x)), int(round(y))
        stamp = cluster_signal(48, center=(23 + x - xi, 23 + y - yi), rng=rng, psfs=psfs, **par)
        y0, x0 = yi - 23, xi - 23
        ys, xs = max(0, -y0), max(0, -x0)
        ye, xe = min(48, field.shape[1] - y0), min(48, field.shape[2] - x0)
        signal[:, y0 + ys:y0 + ye, x0 + xs:x0 + xe] += stamp[:, ys:ye, xs:xe]
        rows.append((n + 1, x, y, 1, par["log_age"], par["log_mass"], par["a_v"], par["r_eff_arcsec"]))
    noisy, _ = add_noise(np.clip(field, 0, None) + signal, rng=rng)
    noisy = noisy + (field - np.clip(field, 0, None))
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [204.2538, -29.8658]
    w.wcs.crpix = [125, 250]
    w.wcs.cdelt = [-0.04 / 3600, 0.04 / 3600]
    for b, band in enumerate(BANDS):
        h = w.to_header()
        h.update(FILTER=band, BUNIT="ELECTRONS/S", PHOTFLAM=model_photflam(band), PHOTPLAM=float(tables().pivot[b]),
                 INSTRUME="WFC3", DETECTOR="UVIS", COMMENT="astroclean demo: real UVIS background + mock clusters")
        fits.PrimaryHDU(noisy[b].astype(np.float32), header=h).writeto(out / f"{band.lower()}.fits", overwrite=True)
    (out / "catalog.csv").write_text("id,x,y\n" + "".join(f"{r[0]},{r[1]:.2f},{r[2]:.2f}\n" for r in rows))
    (out / "truth.csv").write_text("id,x,y,is_cluster,log_age,log_mass,a_v,r_eff_arcsec\n" + "".join(
        ",".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + "\n" for r in rows))
    print(f"wrote {out}/f336w.fits, f438w.fits, f814w.fits, catalog.csv, truth.csv")


if __name__ == "__main__":
    main()
