"""Cosmic-ray flags beside saturated stars: the ring a detector draws around a saturated core and its bleed trail.

Every held-out benchmark case gets two saturated stars with bleed trails painted on its clean
image (:func:`astroclean.cosmicrays.simulate.artefacts.add_artefacts`, ``bleed_star``: Moffat stars of
FWHM 1-6 px, peaks 2e3-1e5 sigma, clipped at a saturation level, trails along the columns). Nothing
else is added, so every flag is a false positive. Each detector sees the frame, the case's bad
pixels and the saturation level, as a user would give them (saturated pixels are masked, as a DQ
plane or SATURATE does). Per method: the flagged pixels within 2 px of a saturated pixel, the
saturated regions (core plus trail, grown by 2 px) with any such flag ("damaged"), and the flagged fraction of the other clean pixels.

The backgrounds are the benchmark split; ``ground`` and ``space`` never saw this generator, but
``cr-any`` was trained with it among its negatives (its numbers here are in-sample for the generator).

Example
-------
>>> from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
>>> from astroclean.cosmicrays.evaluate.peers import get_detector
>>> res = saturated_star_metrics(build_benchmark_set("quick")[:2], {"astroscrappy": get_detector("astroscrappy")})
>>> res.methods
('astroscrappy',)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from astroclean.cosmicrays.evaluate.peers import DetectorError
from astroclean.cosmicrays.simulate.artefacts import add_artefacts
from astroclean.evaluate.figures import new_figure, save_figure
from astroclean.simulate.common import as_rng

RING = 2  # px around saturated pixels where a flag counts as damage


@dataclass(frozen=True)
class SaturatedResult:
    """Per-method flags beside saturated stars (``rows``), the methods, and failures."""

    rows: tuple
    methods: tuple
    failures: tuple = ()

    def table(self):
        """The rows as an :class:`astropy.table.Table`."""
        from astropy.table import Table

        table = Table(rows=[dict(r) for r in self.rows], names=list(self.rows[0]))
        table.meta["description"] = ("false cosmic-ray flags within 2 px of painted saturated stars and bleed trails, "
                                     "on the held-out benchmark backgrounds")
        table.meta["failures"] = list(self.failures)
        return table

    def plot(self, path):
        """Write ``saturated.png``: flags in the ring and the fraction of damaged stars, per method."""
        fig, (ax_r, ax_d) = new_figure(2, width=12.0)
        names = [r["method"] for r in self.rows]
        ax_r.barh(names, [r["ring_flags_per_region"] for r in self.rows], color="C3")
        ax_r.set_xlabel(f"flagged px within {RING} px of saturation, per saturated region")
        ax_d.barh(names, [r["damaged_region_fraction"] for r in self.rows], color="C0")
        ax_d.set_xlabel("fraction of saturated regions with any flag beside them")
        for ax in (ax_r, ax_d):
            ax.invert_yaxis()
        return save_figure(fig, path)


def _frames(cases, rng):
    """(case, image, saturated mask, level, star labels) with two bleed stars painted on each clean image."""
    out = []
    for case in cases:
        noise = float(np.median(case.noise[np.isfinite(case.noise)])) if np.isfinite(case.noise).any() else 1.0
        level = float(np.nanmedian(case.clean) + 3e3 * noise)
        image, saturated, _ = add_artefacts(np.nan_to_num(case.clean), noise, rng=rng,
                                            kinds=["bleed_star", "bleed_star"], saturation=level)
        image[~np.isfinite(case.clean)] = np.nan
        labels, n_stars = ndimage.label(ndimage.binary_dilation(saturated, iterations=RING))
        out.append((case, image.astype(np.float32), saturated, level, labels, n_stars))
    return out


def saturated_star_metrics(cases: Sequence, detectors: Mapping, *, rng=0) -> SaturatedResult:
    """Run every detector on the held-out ``cases`` with saturated stars painted on; see the module docs."""
    gen = as_rng(rng)
    frames = _frames(cases, gen)
    rows, failures = [], []
    for method, det in detectors.items():
        ring_flags = other_flags = other_pixels = n_stars = damaged = 0
        try:
            for case, image, saturated, level, labels, n in frames:
                det_case = det.for_flavour(case.flavour) if hasattr(det, "for_flavour") else det
                bad = case.bad | saturated | ~np.isfinite(image)
                flags = np.asarray(det_case.detect(image, mask=bad, gain=case.gain, read_noise=case.read_noise,
                                                   saturation=level), dtype=bool) & ~bad
                ring = (labels > 0) & ~saturated
                ring_flags += int((flags & ring).sum())
                damaged += len(np.unique(labels[flags & ring]))
                n_stars += n
                elsewhere = ~bad & ~ring
                other_flags += int((flags & elsewhere).sum())
                other_pixels += int(elsewhere.sum())
        except (DetectorError, ValueError) as exc:
            failures.append(f"{method}: {exc}")
            continue
        rows.append({"method": method, "saturated_regions": n_stars, "ring_flags": ring_flags,
                     "ring_flags_per_region": ring_flags / max(n_stars, 1),
                     "damaged_region_fraction": damaged / max(n_stars, 1),
                     "flagged_fraction_elsewhere": other_flags / max(other_pixels, 1)})
    return SaturatedResult(rows=tuple(rows), methods=tuple(r["method"] for r in rows), failures=tuple(failures))
