"""Participatory processes ("démarches") and their phases."""
