from attendance_site.plugins import PluginConfig


class TwinConfig(PluginConfig):
    name = "tests.plugin_examples.twin"
    label = "twin"
