"""Tenancy's infrastructure: the topology both the CDK app and the local cloud build from, and the
CDK stacks (one construct per concern). The map: docs/architecture.md ("Infrastructure").
"""
