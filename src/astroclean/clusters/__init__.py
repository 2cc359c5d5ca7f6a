"""Star clusters in HST WFC3/UVIS images: age, mass, size, extinction, P(cluster), S/N.

>>> from astroclean.clusters import infer_cluster_parameters   # doctest: +SKIP
"""

from astroclean.clusters.api import infer_cluster_parameters

__all__ = ["infer_cluster_parameters"]
