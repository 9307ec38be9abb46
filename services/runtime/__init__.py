"""Shared runtime of every service: config, logging, errors, interceptors, stores, bootstrap."""
