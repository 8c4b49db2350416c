from django.apps import AppConfig


class StreamingConfig(AppConfig):
    # The cameras panel is in extensions.py.
    name = "streaming"
