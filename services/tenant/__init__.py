"""Tenant service: the tenants of the platform and their plans."""
