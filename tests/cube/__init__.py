"""Tests of aurora_xr.cube."""
