"""A plugin whose extensions.py names a store that does not exist."""
