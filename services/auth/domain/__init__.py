"""Auth domain: plain Python, no gRPC."""
