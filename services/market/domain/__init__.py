"""Market domain: plain Python, no gRPC."""
