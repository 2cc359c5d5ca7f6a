"""Shipped pretrained weights (safetensors) and their model cards (JSON)."""
