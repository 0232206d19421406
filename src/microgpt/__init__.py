"""Karpathy's microgpt.py as a readable package: the same algorithm, the same floats, the same transcript."""

__version__ = "0.1.0"
