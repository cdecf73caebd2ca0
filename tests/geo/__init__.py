"""Tests of aurora_xr.geo."""
