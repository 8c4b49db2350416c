from attendance_site.plugins import PluginConfig


class TooNewConfig(PluginConfig):
    name = "tests.plugin_examples.too_new"
    label = "too_new"
    version = "3.0"
    min_version = "99.0"
