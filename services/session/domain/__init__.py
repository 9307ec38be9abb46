"""Session domain: plain Python, no gRPC."""
