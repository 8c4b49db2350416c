"""Small plugins the plugin framework's tests enable in a child process (tests/test_plugins.py)."""
