"""Trading domain: plain Python, no gRPC."""
