"""TradeSage domain services: one grpc.aio server per domain, sharing `services.runtime`."""
