"""Tests of aurora_xr.cli."""
