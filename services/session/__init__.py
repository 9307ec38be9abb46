"""Session service: signed-in devices, kept in Redis with a sliding TTL."""
