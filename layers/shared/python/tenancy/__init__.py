"""Tenancy's shared library: every Lambda function imports it from the shared layer."""
