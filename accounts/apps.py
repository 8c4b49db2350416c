from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and audit"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from accounts.lockout import on_user_locked_out

        # Role groups hold Django permissions, which only exist once migrate has
        # created them: the same hook Django uses. It runs after each app, idempotently.
        post_migrate.connect(_sync_role_groups, dispatch_uid="accounts.role_groups")
        # axes's only hook for a lockout; the receiver hands it to one service.
        user_locked_out.connect(on_user_locked_out, dispatch_uid="accounts.login_lockout")


def _sync_role_groups(**kwargs) -> None:
    from accounts.services import role_groups_sync

    role_groups_sync(using=kwargs.get("using", "default"))
