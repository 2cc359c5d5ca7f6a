"""The cluster network's contract: input normaliser, output layout, loss, decoding to intervals.

Outputs (raw, per cutout), in this order:

* for each parameter in ``PARAMETERS`` (log age, log mass, log r_eff, A_V), a K-component
  Gaussian mixture of its marginal posterior: K logits, K means, K log-sigmas (standardised units);
* one cluster/background logit;
* log10 S/N: mean and log-sigma (Gaussian).

A mixture (K = 3) lets the age-A_V degeneracy show up as wide or bimodal marginals.

Example
-------
>>> import torch
>>> from astroclean.clusters.network import n_outputs, mixture_quantiles
>>> n_outputs(3)
39
>>> q = mixture_quantiles(torch.zeros(1, 3), torch.zeros(1, 3), torch.zeros(1, 3), (0.16, 0.5, 0.84))
>>> [round(float(v), 2) for v in q[0]]
[-0.99, 0.0, 0.99]
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

from astroclean.inference.normalisers import register_normaliser
from astroclean.clusters.simulate.render import EXPTIME, N_READS, READ_NOISE, SKY

PARAMETERS = ("log_age", "log_mass", "log_r_eff", "a_v")
UNITS = ("dex(yr)", "dex(solMass)", "dex(arcsec)", "mag")
#: standardisation of the targets: (value - centre) / scale
TARGET_CENTRE = {"log_age": 7.5, "log_mass": 4.24, "log_r_eff": -0.9, "a_v": 1.5, "log_snr": 1.8}
TARGET_SCALE = {"log_age": 0.87, "log_mass": 0.58, "log_r_eff": 0.29, "a_v": 0.87, "log_snr": 0.8}
#: asinh softening per band [e-/s]: the sky + read noise of one pixel at the stated exposures
NOISE_E_PER_S = tuple(float(np.sqrt(SKY[b] * EXPTIME[b] + N_READS * READ_NOISE**2) / EXPTIME[b]) for b in range(3))
NORMALISER = "asinh-uvis-noise"


def normalise_cutouts(cutouts: np.ndarray) -> np.ndarray:
    """``asinh(x / noise_b) / 3`` per band of (N, 3, h, w) e-/s cutouts; NaN -> 0 (registered normaliser)."""
    scale = np.asarray(NOISE_E_PER_S, np.float32)[None, :, None, None]
    out = np.arcsinh(np.asarray(cutouts, np.float32) / scale) / 3.0
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


register_normaliser(NORMALISER, normalise_cutouts,
                    description="asinh(x / noise_b) / 3 per band of (N, 3, h, w) WFC3/UVIS e-/s cutouts; NaN -> 0")


def n_outputs(k: int) -> int:
    return len(PARAMETERS) * 3 * k + 1 + 2


def split_outputs(raw: torch.Tensor, k: int, sigma_scale: dict | None = None) -> dict:
    """{param: (logits, means, log_sigmas)}, "logit", "snr": (mean, log_sigma)} from raw outputs.

    ``sigma_scale`` ({param: factor}) widens every component of a parameter's mixture (the
    post-hoc calibration fitted on validation mocks and stored in the card).
    """
    out, i = {}, 0
    for name in PARAMETERS:
        logits, means, log_s = raw[:, i: i + k], raw[:, i + k: i + 2 * k], raw[:, i + 2 * k: i + 3 * k]
        log_s = log_s.clamp(-5, 3)
        if sigma_scale and name in sigma_scale:
            log_s = log_s + math.log(sigma_scale[name])
        out[name] = (logits, means, log_s)
        i += 3 * k
    out["logit"] = raw[:, i]
    out["snr"] = (raw[:, i + 1], raw[:, i + 2].clamp(-5, 3))
    return out


def mixture_nll(logits, means, log_s, target):
    z = (target[:, None] - means) / log_s.exp()
    comp = -0.5 * z**2 - log_s - 0.5 * math.log(2 * math.pi)
    return -(torch.logsumexp(F.log_softmax(logits, 1) + comp, 1))


def loss_terms(raw, targets: dict, is_cluster, k: int) -> dict:
    """Per-term mean losses; parameter and S/N terms only on clusters (``is_cluster`` == 1)."""
    parts = split_outputs(raw, k)
    pos = is_cluster > 0.5
    terms = {"cls": F.binary_cross_entropy_with_logits(parts["logit"], is_cluster)}
    if pos.any():
        for name in PARAMETERS:
            lg, mu, ls = (t[pos] for t in parts[name])
            terms[name] = mixture_nll(lg, mu, ls, targets[name][pos]).mean()
        mu, ls = (t[pos] for t in parts["snr"])
        z = (targets["log_snr"][pos] - mu) / ls.exp()
        terms["log_snr"] = (0.5 * z**2 + ls).mean()
    return terms


def mixture_quantiles(logits, means, log_s, probs, *, n_grid: int = 801):
    """Quantiles of each row's mixture, by inverting its CDF on a grid (standardised units)."""
    w = F.softmax(logits, 1)
    s = log_s.exp()
    lo = (means - 5 * s).min(1).values
    hi = (means + 5 * s).max(1).values
    t = torch.linspace(0, 1, n_grid)[None, :]
    grid = lo[:, None] + (hi - lo)[:, None] * t
    cdf = (w[:, None, :] * 0.5 * (1 + torch.erf((grid[:, :, None] - means[:, None, :])
                                                 / (s[:, None, :] * math.sqrt(2))))).sum(-1)
    out = []
    for p in probs:
        idx = torch.searchsorted(cdf.contiguous(), torch.full((cdf.shape[0], 1), float(p))).clamp(1, n_grid - 1)
        c0, c1 = cdf.gather(1, idx - 1), cdf.gather(1, idx)
        g0, g1 = grid.gather(1, idx - 1), grid.gather(1, idx)
        f = ((p - c0) / (c1 - c0).clamp_min(1e-12)).clamp(0, 1)
        out.append((g0 + f * (g1 - g0))[:, 0])
    return torch.stack(out, 1)


def mixture_cdf(logits, means, log_s, value):
    """CDF of each row's mixture at ``value`` (standardised) — the PIT value."""
    w = F.softmax(logits, 1)
    return (w * 0.5 * (1 + torch.erf((value[:, None] - means) / (log_s.exp() * math.sqrt(2))))).sum(1)


def decode(raw: torch.Tensor, k: int, probs=(0.16, 0.5, 0.84), sigma_scale: dict | None = None) -> dict:
    """Physical quantiles per parameter (N, len(probs)), P(cluster) and S/N quantiles, as numpy."""
    parts = split_outputs(raw, k, sigma_scale)
    out = {}
    for name in PARAMETERS:
        q = mixture_quantiles(*parts[name], probs)
        out[name] = (q * TARGET_SCALE[name] + TARGET_CENTRE[name]).numpy()
    out["p_cluster"] = torch.sigmoid(parts["logit"]).numpy()
    mu, ls = parts["snr"]
    z = torch.tensor([-0.9945, 0.0, 0.9945])     # 16/50/84 % of a Gaussian
    out["log_snr"] = ((mu[:, None] + ls.exp()[:, None] * z[None]) * TARGET_SCALE["log_snr"]
                      + TARGET_CENTRE["log_snr"]).numpy()
    return out


def standardise(name, values):
    return (np.asarray(values, float) - TARGET_CENTRE[name]) / TARGET_SCALE[name]


def predict_raw(net, cutouts: np.ndarray, *, batch_size: int = 256) -> torch.Tensor:
    """Raw network outputs for (N, 3, h, w) e-/s cutouts (normalised here)."""
    x = torch.from_numpy(normalise_cutouts(cutouts))
    outs = []
    net.eval()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            outs.append(net(x[i:i + batch_size]))
    return torch.cat(outs) if outs else torch.zeros(0, net.n_outputs)


def pit_values(raw: torch.Tensor, k: int, truth: dict, sigma_scale: dict | None = None) -> dict:
    """PIT (mixture CDF at the truth) per parameter, for rows with finite truth."""
    parts = split_outputs(raw, k, sigma_scale)
    out = {}
    for name in PARAMETERS:
        value = torch.tensor(standardise(name, np.nan_to_num(truth[name])), dtype=torch.float32)
        out[name] = mixture_cdf(*parts[name], value).numpy()
    return out


def fit_sigma_scale(raw: torch.Tensor, k: int, truth: dict, *, target: float = 0.68) -> dict:
    """Per-parameter factor on the mixture widths giving ``target`` 16-84 % coverage on these rows."""
    out = {}
    for name in PARAMETERS:
        best, best_gap = 1.0, np.inf
        for factor in np.exp(np.linspace(np.log(0.5), np.log(3.0), 37)):
            q = decode(raw, k, sigma_scale={name: float(factor)})[name]
            cov = np.mean((truth[name] >= q[:, 0]) & (truth[name] <= q[:, 2]))
            if abs(cov - target) < best_gap:
                best, best_gap = float(factor), abs(cov - target)
        out[name] = round(best, 4)
    return out
