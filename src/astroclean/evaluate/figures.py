"""Figures shared by every benchmark: side-by-side panels on an Agg canvas, saved as PNG.

Example
-------
>>> import tempfile, pathlib
>>> fig, axes = new_figure(2)
>>> len(axes), save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "a.png").suffix
(2, '.png')
"""

from __future__ import annotations

import numpy as np

__all__ = ["new_figure", "save_figure"]



def new_figure(n_panels: int, *, width: float = 11.0, height: float = 4.2):
    """A matplotlib Figure with ``n_panels`` axes side by side (Agg canvas, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n_panels)
    return fig, list(np.atleast_1d(axes))


def save_figure(fig, path, *, dpi: int = 110):
    """Write ``fig`` as a PNG at ``path`` (parent folders created); returns the Path."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path
