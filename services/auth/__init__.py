"""Auth service: registration, password login, and (issue 3) tokens."""
