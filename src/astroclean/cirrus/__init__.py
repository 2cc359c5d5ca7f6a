"""Galactic cirrus (issues 11 and 12)."""
