"""The embedded local cloud behind `make dev`: moto server, API Gateway emulation, stream and event pumps."""
