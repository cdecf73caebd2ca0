"""Tests of aurora_xr.plot."""
