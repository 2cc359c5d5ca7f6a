"""``read_bands``: several FITS files (one band each) or one cube into an :class:`~astroclean.image.ImageStack`.

Bands whose WCS differ from the first band's are resampled onto its grid (bilinear interpolation
through the celestial WCS, scaled by the pixel-area ratio so that a pixel keeps holding flux; pixels
outside a band's footprint are masked). Band names come from ``bands=``, else FILTER/BAND keywords,
else the file name; zero points from ``zeropoints=``, else the header
(:func:`astroclean.instruments.photometric.zeropoint_from_header`).

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astropy.io import fits
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> for band in "gr":
...     fits.PrimaryHDU(np.ones((8, 9), "f4"), fits.Header({"BUNIT": "nanomaggy"})).writeto(folder / f"f_{band}.fits")
>>> stack = read_bands([folder / "f_g.fits", folder / "f_r.fits"])
>>> stack.bands, stack.zeropoints, stack.shape
(('g', 'r'), (22.5, 22.5), (2, 8, 9))
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.image import ImageStack, as_image

__all__ = ["read_bands"]


def _same_grid(a, b, shape_a, shape_b) -> bool:
    if shape_a != shape_b:
        return False
    if a is None or b is None:
        return True
    ny, nx = shape_a
    corners = np.array([[0, 0], [nx - 1, 0], [0, ny - 1], [nx - 1, ny - 1]], float)
    world = a.celestial.pixel_to_world_values(corners[:, 0], corners[:, 1])
    back = np.column_stack(b.celestial.world_to_pixel_values(*world))
    return bool(np.allclose(back, corners, atol=0.01))


def _reproject(image, wcs_ref, shape, label):
    """``image`` resampled onto ``wcs_ref``'s grid of ``shape``: (data, mask)."""
    from scipy import ndimage

    from astroclean.photometry import pixel_scale_arcsec

    if image.wcs is None or wcs_ref is None or not image.wcs.has_celestial or not wcs_ref.has_celestial:
        raise AstrocleanValueError(f"the bands have different shapes (band {label}: {image.shape}, the first band: "
                                   f"{shape}), and without a celestial WCS on both they cannot be put on one grid; "
                                   "reproject them to one grid first, or give files with WCS headers")
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    world = wcs_ref.celestial.pixel_to_world_values(xx.ravel(), yy.ravel())
    px, py = image.wcs.celestial.world_to_pixel_values(*world)
    coords = np.vstack([py, px])
    filled = np.where(image.mask, 0.0, image.data)
    data = ndimage.map_coordinates(filled, coords, order=1, mode="constant", cval=np.nan).reshape(shape)
    bad = ndimage.map_coordinates(image.mask.astype(np.float32), coords, order=1, mode="constant",
                                  cval=1.0).reshape(shape) > 0.01
    outside = ~((px > -0.5) & (px < image.shape[1] - 0.5) & (py > -0.5) & (py < image.shape[0] - 0.5)).reshape(shape)
    mask = bad | outside | ~np.isfinite(data)
    ratio = (pixel_scale_arcsec(wcs_ref) / pixel_scale_arcsec(image.wcs)) ** 2
    data = (data * ratio).astype(np.float32)
    data[mask] = np.nan
    return data, mask


def read_bands(sources, *, bands=None, hdu=None, zeropoints=None, default_bands=None) -> ImageStack:
    """Read bands into one :class:`~astroclean.image.ImageStack` on the first band's grid.

    Parameters
    ----------
    sources : path or sequence of paths
        One file per band, or a single file holding a cube (one plane per band).
    bands : sequence of str, optional
        Band names in the order of ``sources``; default from FILTER/BAND keywords, else the file name.
    hdu : int or str, optional
        HDU of each file (default: the first image HDU).
    zeropoints : float or sequence of float, optional
        Magnitude of one data unit per band (one value for all); default: from each header.
    default_bands : sequence of str, optional
        Names used when neither the headers nor the file names tell the bands apart and there are
        as many images (a task's declared bands, e.g. ``("g", "r", "i")`` for a bare cube).

    Raises
    ------
    AstrocleanValueError
        A band whose name cannot be found, duplicate names, bands of different shapes without a
        WCS, integer-free checks of :func:`~astroclean.image.as_image` (all-NaN band...).
    """
    from astroclean.instruments.photometric import band_from_header, band_from_name, zeropoint_from_header
    from astroclean.io.read import read_image, read_images

    paths = [Path(sources)] if isinstance(sources, (str, Path)) else [Path(s) for s in sources]
    if not paths:
        raise AstrocleanValueError("read_bands needs at least one file")
    if len(paths) == 1:
        images = read_images(paths[0], hdu=hdu)
        if len(images) < 2:
            raise AstrocleanValueError(f"{paths[0]} holds one image; give one file per band or a cube")
    else:
        images = [read_image(p, hdu=hdu) for p in paths]
    if bands is not None:
        names = list(bands)
    else:
        names = [band_from_header(im.header) or "" for im in images]
        from_files = [band_from_name(p) or "" for p in paths] if len(paths) > 1 else []
        if (not all(names) or len(set(names)) != len(names)) and from_files and all(from_files) \
                and len(set(from_files)) == len(from_files):
            if all(names):
                warnings.warn(f"the headers name the bands {names}, which collide; using the file names "
                              f"{from_files} (pass bands=... to choose)", stacklevel=2)
            names = from_files
    if len(names) != len(images):
        raise AstrocleanValueError(f"{len(names)} band names for {len(images)} images")
    if bands is None and default_bands is not None and len(default_bands) == len(images) \
            and (not all(names) or len(set(names)) != len(names)):
        names = list(default_bands)
    if not all(names) or len(set(names)) != len(names):
        raise AstrocleanValueError(f"cannot tell the bands apart (found {names}); pass bands=('g', 'r', 'i') "
                                   "(--bands g,r,i) in the order of the files")
    if zeropoints is None:
        zps = tuple(im.meta.get("zeropoint", zeropoint_from_header(im.header)) for im in images)
    else:
        zps = tuple(np.broadcast_to(np.asarray(zeropoints, float), (len(images),)).tolist())
    ref = images[0]
    data, masks = [], []
    for im, name in zip(images, names):
        if _same_grid(ref.wcs, im.wcs, ref.shape, im.shape):
            data.append(im.data.astype(np.float32))
            masks.append(im.mask)
        else:
            d, m = _reproject(im, ref.wcs, ref.shape, name)
            data.append(d)
            masks.append(m | ~np.isfinite(d))
    stacked = [as_image(d, mask=m, name=n) for d, m, n in zip(data, masks, names)]
    stack = ImageStack.from_images(stacked, bands=tuple(names), zeropoints=zps, wcs=ref.wcs)
    return stack.replace(units=tuple(im.unit for im in images), headers=tuple(im.header for im in images),
                         names=tuple(im.name for im in images))
