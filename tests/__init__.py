"""The aurora_xr test suite; the folders mirror the package layers."""
