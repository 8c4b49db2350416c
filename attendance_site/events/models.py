"""The event log: one row per domain event, written in the transaction of the change it reports."""

from django.db import models
from django.db.models import Q


class DomainEvent(models.Model):
    """Something that happened, stored with the change itself and delivered to handlers after commit.

    The id is monotonic: per site, events are delivered and read back in the order they
    were written. ``dispatched_at`` is set once every handler registered for the type has
    taken the event; until then the sweeper keeps delivering it.
    """

    type = models.CharField(max_length=100, db_index=True)
    version = models.PositiveSmallIntegerField()
    site_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # The sweeper's question: what is still waiting? Small, as delivered rows leave it.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="event_pending_idx",
                condition=Q(dispatched_at__isnull=True, failed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class DomainEventDelivery(models.Model):
    """One handler has taken one event: it is never given that event again."""

    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=100)
    delivered_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="event_delivery_once")]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.handler}"
