"""The query-count helper fails with every statement numbered when the count is off."""

import pytest
from django.contrib.auth.models import User

from attendance_site.testing.queries import assert_database_query_count


@pytest.mark.django_db
def test_query_count_helper_passes_on_the_exact_count():
    with assert_database_query_count(2):
        list(User.objects.all())
        User.objects.filter(username="nobody").exists()


@pytest.mark.django_db
def test_query_count_helper_fails_with_every_statement_numbered():
    with pytest.raises(AssertionError) as failure:
        with assert_database_query_count(1):
            list(User.objects.all())
            User.objects.filter(username="nobody").exists()

    message = str(failure.value)
    assert message.startswith("2 database queries, 1 expected:\n1. SELECT")
    assert '\n2. SELECT 1 AS "a" FROM "auth_user"' in message
