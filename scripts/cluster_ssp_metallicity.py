"""Mean SSP colours (A_V = 0) of the PARSEC isochrones at each metallicity, from the vendored CK04 grid,
and the LEGUS NGC 1566 colours of low-extinction class 1-2 clusters at their SED ages, beside them.

    python scripts/cluster_ssp_metallicity.py

A diagnostic for the LEGUS age test: is the 0.5 mag offset in F438W-F814W a matter of metallicity?
(Same recipe as scripts/build_cluster_tables.py: nearest CK04 [M/H], bilinear in log Teff / log g,
Rayleigh-Jeans above 50 kK, Kroupa weights per isochrone point.)
"""

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_cluster_tables import imf_weights, interp_grid  # noqa: E402

from astroclean.clusters.evaluate.legus import load_legus  # noqa: E402

AGES = (6.5, 6.8, 7.0, 7.2, 7.5, 7.8, 8.0)


def ssp_colours(iso_path, tables, mh_index):
    iso = np.loadtxt(iso_path, comments="#")
    teff, loggs, mag = tables["ck04_teff"], tables["ck04_logg"], tables["ck04_mag_lsun"][mh_index]
    out = {}
    for age in AGES:
        sel = np.isclose(iso[:, 0], age)
        mini, logl, logt, logg = iso[sel, 1], iso[sel, 3], iso[sel, 4], iso[sel, 5]
        t = 10**logt
        m = interp_grid(teff, loggs, mag, t, logg) - 2.5 * logl[:, None]
        hot = t > teff[-1]
        m[hot] += 7.5 * np.log10(t[hot] / teff[-1])[:, None]
        total = -2.5 * np.log10((imf_weights(mini)[:, None] * 10 ** (-0.4 * m)).sum(0))
        out[age] = (total[0] - total[1], total[1] - total[2])
    return out


def main():
    root = Path(os.environ.get("ASTROCLEAN_DATA_DIR", "../shared/data")) / "stellar_populations" / "parsec_isochrones"
    tables = np.load(Path(__file__).resolve().parents[1] / "src/astroclean/clusters/data/wfc3_uvis_tables.npz")
    mhs = tables["ck04_mh"]
    lg = load_legus()
    low = (lg["ebv"] < 0.1) & (lg["err"].max(1) < 0.15)
    print("| source | " + " | ".join(f"log age {a}" for a in AGES) + " |")
    print("|---|" + "---|" * len(AGES))
    for z in ("0.0100", "0.0140", "0.0200", "0.0300"):
        mh = np.log10(float(z) / 0.0152)
        k = int(np.argmin(abs(mhs - mh)))
        cols = ssp_colours(root / f"isoc_z{z}.dat", tables, k)
        print(f"| PARSEC Z = {z} (CK04 [M/H] {mhs[k]:+.1f}) | " +
              " | ".join(f"{cols[a][0]:+.2f}, {cols[a][1]:+.2f}" for a in AGES) + " |")
    cells = []
    for a in AGES:
        s = low & (abs(lg["log_age"] - a) <= 0.1)
        c1 = np.median(lg["mag"][s, 0] - lg["mag"][s, 1]) if s.any() else np.nan
        c2 = np.median(lg["mag"][s, 1] - lg["mag"][s, 2]) if s.any() else np.nan
        cells.append(f"{c1:+.2f}, {c2:+.2f} (n={int(s.sum())})")
    print("| LEGUS, E(B-V) < 0.1, SED age +-0.1 dex (median) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
