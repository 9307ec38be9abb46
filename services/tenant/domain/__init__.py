"""Tenant domain: plain Python, no gRPC."""
