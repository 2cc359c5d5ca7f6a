"""The compact-source removal benchmark: flux ratios, background power spectra, pixel statistics,
gamma Dra and throughput (:mod:`~astroclean.sources.evaluate.benchmark`, ``summary``, ``gamma``,
``report``), behind ``astroclean evaluate sources``.
"""
