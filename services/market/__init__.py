"""Market data service: instruments, quotes, and live price streams."""
