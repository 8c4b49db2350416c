"""A plugin for a platform version that does not exist yet."""
