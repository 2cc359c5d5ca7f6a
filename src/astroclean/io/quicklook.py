"""Quick-look PNG of a product: the input, what was found (overlaid), the cleaned image and the residual.

Every panel of the input's brightness uses one zscale stretch (IRAF's, via astropy), so input and
cleaned image compare by eye; the residual (input - cleaned) uses the same range, centred on 0. What was
found is drawn in red over the input (a mask: its pixels; positions: circles). Written atomically,
never over an existing file without ``overwrite``. Used by ``--plot`` of every task's command.

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astroclean.io.quicklook import write_quicklook
>>> image = np.random.default_rng(0).normal(100, 5, (64, 64))
>>> found = np.zeros((64, 64), bool); found[30, 10:20] = True
>>> path = write_quicklook(pathlib.Path(tempfile.mkdtemp()) / "q.png", image, found=found,
...                        cleaned=np.where(found, 100, image), title="demo")
>>> path.suffix
'.png'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astroclean.io.write import atomic_write

MAX_PANEL_PIXELS = 1024  # larger images are block-averaged (masks: block-max) for display only


def _zscale(data):
    from astropy.visualization import ZScaleInterval

    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = ZScaleInterval().get_limits(finite)
    return (lo, hi) if hi > lo else (float(finite.min()), float(finite.max()) + 1e-12)


def _shrink(array, factor, *, reduce=np.nanmean):
    if factor <= 1:
        return array
    ny, nx = (s // factor * factor for s in array.shape)
    blocks = array[:ny, :nx].reshape(ny // factor, factor, nx // factor, factor)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return reduce(blocks, axis=(1, 3))


def write_quicklook(path, image, *, found=None, positions=None, cleaned=None, title: str | None = None,
                    found_label: str = "found", task: str = "quicklook", overwrite: bool = False) -> Path:
    """Write the quick-look PNG ``path``.

    Parameters
    ----------
    image : ndarray (y, x)
        The input pixels (NaN shown blank).
    found : ndarray of bool, optional
        What was found (a cosmic-ray mask, the holes of removed sources), overlaid in red.
    positions : (N, 2) array of x, y, optional
        Found or removed sources, circled in red.
    cleaned : ndarray, optional
        The cleaned image; with it, the residual panel (input - cleaned) is drawn too.
    title : str, optional
    task : str
        Written into the PNG's text chunks (``ACTASK``), which mark the file as ours.
    overwrite : bool
        Replace an existing file.
    """
    from matplotlib.figure import Figure  # no pyplot: no backend, no global state

    data = np.asarray(image, dtype=np.float32)
    factor = max(1, int(np.ceil(max(data.shape) / MAX_PANEL_PIXELS)))
    shown = _shrink(data, factor)
    lo, hi = _zscale(shown)
    panels = [("input", shown, (lo, hi), "gray")]
    overlay = None
    if found is not None:
        overlay = _shrink(np.asarray(found, dtype=np.float32), factor, reduce=np.max) > 0
        panels.append((f"{found_label} ({int(np.count_nonzero(found))} px)", shown, (lo, hi), "gray"))
    elif positions is not None:
        panels.append((f"{found_label} ({len(positions)})", shown, (lo, hi), "gray"))
    if cleaned is not None:
        clean = np.asarray(cleaned, dtype=np.float32)
        panels.append(("cleaned", _shrink(clean, factor), (lo, hi), "gray"))
        residual = _shrink(data - clean, factor)
        bound = max((hi - lo) / 2, 1e-12)  # the input's stretch, centred on 0: what was removed, on the same scale
        panels.append(("residual (input - cleaned)", residual, (-bound, bound), "RdBu_r"))
    fig = Figure(figsize=(3.6 * len(panels), 3.9), dpi=100)
    for k, (name, array, (vmin, vmax), cmap) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        ax.imshow(array, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if k == 1 and overlay is not None:
            rgba = np.zeros(overlay.shape + (4,), np.float32)
            rgba[overlay] = (1.0, 0.1, 0.1, 0.85)
            ax.imshow(rgba, origin="lower", interpolation="nearest")
        if k == 1 and positions is not None and len(positions):
            xy = np.asarray(positions, dtype=float).reshape(-1, 2) / factor
            ax.scatter(xy[:, 0], xy[:, 1], s=80, facecolors="none", edgecolors="red", linewidths=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    note = "zscale" + (f"; shown binned {factor}x{factor}" if factor > 1 else "")
    fig.suptitle(f"{title}  ({note})" if title else note, fontsize=9)
    fig.tight_layout()
    from astroclean import __version__

    metadata = {"Software": f"astroclean {__version__}", "ACTASK": task}
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", metadata=metadata), overwrite=overwrite)
