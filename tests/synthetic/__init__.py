"""Tests of aurora_xr.synthetic."""
