"""Tests of aurora_xr.analysis."""
