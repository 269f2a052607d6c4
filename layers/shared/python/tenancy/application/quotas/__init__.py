"""Quotas and metering of the app API: the per-tenant request limiter (`limiter`), the middleware
every app request passes (`middleware`) and the tenant admins' usage read (`routes`: `GET /usage`)."""
