"""Pydantic models, split by boundary: api (HTTP), domain, events (EventBridge)."""
