"""User service: profiles, preferences, activity and permissions of a tenant's users."""
