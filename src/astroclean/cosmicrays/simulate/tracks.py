"""A physically motivated cosmic-ray track simulator.

It complements the library of real hits with geometry the real frames lack
(any angle, long tracks, other detector thicknesses). Four kinds:

``"dot"``
    Near-normal incidence: the projected path is shorter than ~2 pixels.
``"track"``
    A minimum-ionising particle crossing the depleted layer at incidence
    angle theta; projected length ``thickness * tan(theta) / pixel``. The
    angle follows the isotropic flux through a plane (``cos(theta) =
    sqrt(U)``).
``"curved"``
    A track whose direction turns at a constant rate (a low-energy particle
    bent by multiple scattering), radius 15-80 pixels.
``"worm"``
    A low-energy (50-400 keV) electron, e.g. a delta ray or a Compton
    electron: a 3-D random walk whose scattering grows as it slows, range
    from the Kanaya-Okayama relation in silicon, deposit per step from the
    residual-range relation (it rises towards the end, like a Bragg peak).

Charge along tracks has Landau-like fluctuations (Moyal-distributed
multiplier around the most probable 70 e-/um of a minimum-ionising particle
in silicon). The charge is NOT convolved with any PSF: every deposit is
spread only by a small Gaussian charge-diffusion kernel whose width grows
with the depth of the deposit (``sigma = diffusion * sqrt(depth /
thickness)``), integrated exactly over the pixels, so edges stay sharp.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.simulate import simulate_cosmic_ray
>>> stamp = simulate_cosmic_ray(np.random.default_rng(3), kind="track", length=20.0)
>>> stamp.origin, stamp.n_core >= 20
('simulated:track', True)
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from astroclean.errors import AstrocleanValueError
from astroclean.simulate.common import as_rng, dilate
from astroclean.cosmicrays.simulate.library import CosmicRayStamp

__all__ = ["simulate_cosmic_ray", "KINDS"]

KINDS = ("dot", "track", "curved", "worm")
_KIND_P = (0.3, 0.35, 0.15, 0.2)
MIP_ELECTRONS_PER_UM = 70.0   # most probable deposit of a minimum-ionising particle in Si
EV_PER_PAIR = 3.65            # mean energy per electron-hole pair in silicon
_STEP = 0.25                  # rendering step along the path (pixels)


def _moyal(rng, n):
    """Moyal (Landau approximation) deviates with mode 0: -ln(Z**2), Z ~ N(0, 1)."""
    z = rng.standard_normal(n)
    return -np.log(np.maximum(z * z, 1e-300))


def _render(y, x, charge, sigma, *, margin: int = 3):
    """Integrate Gaussian charge clouds exactly over pixels; returns (values, footprint)."""
    oy, ox = np.floor(y.min()) - margin, np.floor(x.min()) - margin
    y, x = y - oy, x - ox
    ny = int(np.floor(y.max())) + margin + 1
    nx = int(np.floor(x.max())) + margin + 1
    out = np.zeros((ny, nx))
    sig = np.maximum(sigma, 1e-3)[:, None]
    off = np.arange(-2, 3)
    iy = np.floor(y + 0.5).astype(int)[:, None] + off
    ix = np.floor(x + 0.5).astype(int)[:, None] + off
    wy = ndtr((iy + 0.5 - y[:, None]) / sig) - ndtr((iy - 0.5 - y[:, None]) / sig)
    wx = ndtr((ix + 0.5 - x[:, None]) / sig) - ndtr((ix - 0.5 - x[:, None]) / sig)
    w = charge[:, None, None] * wy[:, :, None] * wx[:, None, :]
    yy = np.broadcast_to(iy[:, :, None], w.shape)
    xx = np.broadcast_to(ix[:, None, :], w.shape)
    np.add.at(out, (yy.ravel(), xx.ravel()), w.ravel())
    out[out < 1e-3 * out.max()] = 0.0          # drop the far Gaussian tails
    foot = dilate(out > 0)
    rows, cols = np.nonzero(foot)
    sl = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    return out[sl].astype(np.float32), foot[sl]


def _straight_or_curved(rng, length, curvature, thickness, pixel, diffusion, landau_width):
    """Points along a (curved) track of projected ``length`` px crossing the whole layer."""
    n = max(1, int(np.ceil(length / _STEP)))
    s = (np.arange(n) + 0.5) * (length / n)
    phi = rng.uniform(0, 2 * np.pi) + curvature * s
    # exact integral of the unit direction along the arc (straight when curvature == 0)
    if curvature == 0:
        y, x = s * np.sin(phi[0] if n else 0.0), s * np.cos(phi[0] if n else 0.0)
    else:
        phi0 = phi[0] - curvature * s[0]
        y = (np.cos(phi0) - np.cos(phi0 + curvature * s)) / curvature
        x = (np.sin(phi0 + curvature * s) - np.sin(phi0)) / curvature
    path_um = np.hypot(length * pixel, thickness)           # 3-D path through the layer
    fluct = np.maximum(1.0 + landau_width * _moyal(rng, n), 0.05)
    charge = MIP_ELECTRONS_PER_UM * (path_um / n) * fluct
    depth = (np.arange(n) + 0.5) / n                        # fraction of the layer crossed
    if rng.random() < 0.5:                                  # particle enters from either side
        depth = 1.0 - depth
    return y, x, charge, diffusion * np.sqrt(depth)


def _worm(rng, energy_kev, thickness, pixel, diffusion):
    range_um = 0.0318 * energy_kev ** 1.67       # Kanaya-Okayama range in silicon
    step_um = _STEP * pixel
    n = max(2, int(np.ceil(range_um / step_um)))
    resid = np.clip(range_um - step_um * np.arange(n + 1), 0.0, None)
    energy = (resid / 0.0318) ** (1 / 1.67)
    deposit_kev = -np.diff(energy)
    direction = rng.standard_normal(3)
    direction /= np.linalg.norm(direction)
    pos = np.zeros((n, 3))
    z = rng.uniform(0, thickness)
    for i in range(n):
        scatter = min(1.5, 13.0 * np.sqrt(step_um) / max(energy[i], 1.0))
        kick = rng.standard_normal(3) * scatter
        direction = direction + kick - np.dot(kick, direction) * direction
        direction /= np.linalg.norm(direction)
        pos[i] = (pos[i - 1] if i else 0.0) + direction * step_um
    zz = np.clip(z + pos[:, 2], 0.0, thickness)
    y, x = pos[:, 0] / pixel, pos[:, 1] / pixel
    charge = deposit_kev * 1e3 / EV_PER_PAIR
    sigma = diffusion * np.sqrt(zz / thickness)
    return y, x, charge, sigma


def simulate_cosmic_ray(rng, *, kind=None, thickness=None, pixel: float = 15.0, diffusion=None,
                        length=None, landau_width: float = 0.2, max_length: float = 120.0) -> CosmicRayStamp:
    """Simulate one cosmic-ray hit as a stamp (electrons, sharp, footprint dilated 3x3).

    Parameters
    ----------
    rng : numpy.random.Generator or int
    kind : {"dot", "track", "curved", "worm"}, optional
        Drawn with probabilities 0.3, 0.35, 0.15, 0.2 when omitted.
    thickness : float, optional
        Depleted thickness in micrometres; log-uniform in 10-250 um (from
        thin HST-like CCDs to thick deep-depletion CCDs like DECam's) when
        omitted.
    pixel : float
        Pixel pitch in micrometres.
    diffusion : float, optional
        Charge-diffusion sigma (pixels) of a deposit at the far side of the
        depleted layer; uniform in 0.1-0.45 when omitted. Never a PSF.
    length : float, optional
        Projected length in pixels for ``"track"``/``"curved"``; by default
        from the incidence angle and ``thickness`` (tracks) or uniform
        8-60 pixels (curved).
    landau_width : float
        Width of the Moyal (Landau-like) multiplier of the deposit per step.
    max_length : float
        Longest projected track (pixels).

    Returns
    -------
    CosmicRayStamp
        ``origin`` is ``"simulated:<kind>"``; ``position`` is (-1, -1).

    Raises
    ------
    AstrocleanValueError
        Unknown kind or non-positive geometry.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> kinds = {simulate_cosmic_ray(rng).origin for _ in range(40)}
    >>> sorted(kinds)
    ['simulated:curved', 'simulated:dot', 'simulated:track', 'simulated:worm']
    """
    rng = as_rng(rng)
    if kind is None:
        kind = KINDS[int(rng.choice(len(KINDS), p=_KIND_P))]
    if kind not in KINDS:
        raise AstrocleanValueError(f"unknown cosmic-ray kind {kind!r}; choose one of {', '.join(KINDS)}")
    if thickness is None:
        thickness = float(np.exp(rng.uniform(np.log(10.0), np.log(250.0))))
    if diffusion is None:
        diffusion = float(rng.uniform(0.1, 0.45))
    if not (thickness > 0 and pixel > 0 and diffusion >= 0 and max_length > 0):
        raise AstrocleanValueError(
            f"need thickness > 0, pixel > 0, diffusion >= 0, max_length > 0; got {thickness}, {pixel}, "
            f"{diffusion}, {max_length}"
        )
    if kind == "worm":
        y, x, q, s = _worm(rng, float(np.exp(rng.uniform(np.log(50.0), np.log(400.0)))), thickness, pixel,
                           diffusion)
    else:
        if kind == "dot":
            proj = rng.uniform(0.0, 2.0) if length is None else float(length)
        elif kind == "track":
            if length is None:
                cos_t = np.sqrt(rng.uniform(0.02, 1.0))             # isotropic flux through a plane
                proj = thickness * np.sqrt(1 - cos_t ** 2) / cos_t / pixel
                proj = min(max(proj, 2.0), max_length)
            else:
                proj = float(length)
        else:
            proj = rng.uniform(8.0, 60.0) if length is None else float(length)
        if not 0 <= proj <= max_length:
            raise AstrocleanValueError(f"length must be in [0, {max_length}] pixels, got {proj}")
        curvature = 0.0
        if kind == "curved":
            curvature = float(rng.choice([-1, 1]) / rng.uniform(15.0, 80.0))
        y, x, q, s = _straight_or_curved(rng, proj, curvature, thickness, pixel, diffusion, landau_width)
    values, footprint = _render(y + rng.random(), x + rng.random(), q, s)
    return CosmicRayStamp(values, footprint, f"simulated:{kind}")
