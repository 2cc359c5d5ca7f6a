"""Mock star clusters with their truth (astroclean.clusters.simulate)."""

from .mocks import KINDS, PRIORS, TRUTH_KEYS, cluster_signal, make_mock, make_set
from .population import Population, draw_population, expected_flux

__all__ = ["KINDS", "PRIORS", "TRUTH_KEYS", "cluster_signal", "make_mock", "make_set", "Population",
           "draw_population", "expected_flux"]
