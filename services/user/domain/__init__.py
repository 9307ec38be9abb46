"""User domain: plain Python, no gRPC."""
