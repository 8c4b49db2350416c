from attendance_site.celery import app as celery_app

# The platform's version: plugins declare the range they run on (PluginConfig.min_version
# and max_version). Kept equal to pyproject.toml's by a test.
__version__ = "0.1.0"

__all__ = ["__version__", "celery_app"]
