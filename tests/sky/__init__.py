"""Tests of aurora_xr.sky."""
