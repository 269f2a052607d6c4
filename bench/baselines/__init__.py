"""Bare boto3 + standard library handlers doing the same AWS calls as Tenancy's functions: the
yardstick each function's cold start and warm latency are compared against."""
