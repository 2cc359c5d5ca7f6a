"""Benchmarks: run any cosmic-ray detector, ours or a peer's, on the same images.

:mod:`astroclean.evaluate.peers` holds one protocol (:class:`~astroclean.evaluate.peers.Detector`)
and adapters for the peer packages (astroscrappy, lacosmic, deepCR, Cosmic-CoNN),
all optional: ``pip install astroclean[peers]``.

>>> from astroclean.evaluate.peers import list_detectors
>>> "astroscrappy" in list_detectors()
True
"""
