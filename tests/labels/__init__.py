"""Tests of aurora_xr.labels."""
