"""Pnyx core: the app factory and the plumbing shared by every package."""

from core.app import create_app

__all__ = ["create_app"]
