"""Proposals (ideas), supports and the official answer workflow."""
