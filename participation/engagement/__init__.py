"""Follows, notifications and moderation."""
