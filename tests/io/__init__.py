"""Tests of aurora_xr.io."""
