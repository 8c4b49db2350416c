from attendance_site.plugins import PluginConfig


class GreeterConfig(PluginConfig):
    name = "tests.plugin_examples.greeter"
    label = "greeter"
    verbose_name = "Greeter"
    version = "1.2.0"
    author = "Tests"
    description = "Says hello."
    base_url = "hello"
    min_version = "0.1"
    max_version = "1.99"
    required_settings = ("greeting",)
    default_settings = {"punctuation": "!"}
