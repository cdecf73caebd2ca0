"""Tests of aurora_xr.model."""
