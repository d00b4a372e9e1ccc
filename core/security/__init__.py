"""Security building blocks shared by the tenant and platform account realms."""
