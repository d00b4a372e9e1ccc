"""Tenant accounts: citizens and the collectivité's staff, in the tenant's schema."""
