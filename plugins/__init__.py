"""Plugins shipped with the platform: Django apps enabled by listing them in PLUGINS."""
