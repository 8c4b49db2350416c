from attendance_site.plugins import PluginConfig


class MisspeltConfig(PluginConfig):
    name = "tests.plugin_examples.misspelt"
    label = "misspelt"
