"""Test doubles that are real servers: started on loopback by the tests that need them."""
