"""The caller's tenant's configuration on the app API (`GET /config`)."""
