from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and audit"

    def ready(self) -> None:
        # Role groups hold Django permissions, which only exist once migrate has
        # created them: the same hook Django uses. It runs after each app, idempotently.
        post_migrate.connect(_sync_role_groups, dispatch_uid="accounts.role_groups")


def _sync_role_groups(**kwargs) -> None:
    from accounts.services import role_groups_sync

    role_groups_sync(using=kwargs.get("using", "default"))
