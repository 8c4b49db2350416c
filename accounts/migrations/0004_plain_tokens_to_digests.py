"""Plain API tokens (rest_framework.authtoken) become knox digests, and their table goes.

The old keys were stored in plain text, so they can be hashed as they are: a script
holding one keeps working until it expires, API_TOKEN_TTL after this migration, and
the database no longer holds a usable key. rest_framework.authtoken is no longer
installed: its table and migration records are removed, as `migrate authtoken zero`
would have removed them.
"""

from django.conf import settings
from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

OLD_TABLE = "authtoken_token"


def plain_tokens_to_digests(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    expiry = timezone.now() + settings.API_TOKEN_TTL
    AuthToken.objects.using(connection.alias).bulk_create(
        AuthToken(digest=hash_token(key), token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry)
        for key, user_id in rows
    )
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_login_lockout"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    # The plain keys are gone once hashed: going back leaves the digests in place.
    operations = [migrations.RunPython(plain_tokens_to_digests, migrations.RunPython.noop)]
