"""Cluster benchmark: held-out mocks, classical baseline, LEGUS checks."""
