"""The version of aurora_xr (the one place it is written)."""

__version__ = "0.1.0"
