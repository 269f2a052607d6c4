"""Tenancy's shared library: every Lambda function imports it from the shared layer.

Its packages and what each may import: docs/architecture.md ("Layout").
"""
