from django.apps import AppConfig


class EventsConfig(AppConfig):
    """The durable domain event log: platform plumbing every domain app writes through."""

    name = "attendance_site.events"
    label = "events"
    verbose_name = "Domain events"
