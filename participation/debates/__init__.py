"""Debates (arguments pour / contre) and comments."""
