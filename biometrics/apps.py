from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


class BiometricsConfig(AppConfig):
    name = "biometrics"

    def ready(self) -> None:
        from employees.models import Employee

        # Cache invalidation only, no business rule: an employee who moves site or is
        # deactivated must leave every cached face gallery at once.
        post_save.connect(_galleries_invalidate, sender=Employee, dispatch_uid="biometrics.employee_saved")
        post_delete.connect(_galleries_invalidate, sender=Employee, dispatch_uid="biometrics.employee_deleted")


def _galleries_invalidate(**kwargs) -> None:
    from biometrics.selectors import gallery_invalidate

    transaction.on_commit(gallery_invalidate, robust=True)
