"""A plugin whose check-in method takes the key the greeter's already has."""
