"""Tests of aurora_xr.widgets."""
