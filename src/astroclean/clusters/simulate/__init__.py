"""Mock star clusters with their truth (astroclean.clusters.simulate)."""

from astroclean.clusters.simulate.mocks import KINDS, PRIORS, TRUTH_KEYS, cluster_signal, make_mock, make_set
from astroclean.clusters.simulate.population import Population, draw_population, expected_flux

__all__ = ["KINDS", "PRIORS", "TRUTH_KEYS", "cluster_signal", "make_mock", "make_set", "Population",
           "draw_population", "expected_flux"]
