import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher takes about a second a password on a busy machine, and these
    # tests log in hundreds of times; lockouts and tokens do not depend on its cost.
    # Servers in other processes do not know this hasher: no test here starts one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
