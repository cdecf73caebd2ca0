"""Tests of aurora_xr.detect."""
