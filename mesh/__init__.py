"""Run-time infrastructure for the TradeSage mesh."""
