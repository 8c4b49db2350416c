"""A NUL character anywhere in a rule set's rules is refused, on every database.

PostgreSQL stores no NUL in jsonb: such a rule set failed with a 500 there.
"""

import pytest

from environment.models import RuleSet

MODES = [{"mode": "pin", "when": {}}]


@pytest.mark.parametrize(
    "rules",
    [{"modes": MODES, "comment\x00": 1}, {"modes": [{"mode": "pin", "when": {}, "note": "\x00"}]}],
    ids=["in-a-key", "in-a-value"],
)
def test_rules_with_a_null_character_are_refused_and_nothing_is_stored(admin_client, site_a, rules):
    response = admin_client.post("/api/environment/rule-sets/", {"site": site_a.pk, "rules": rules}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "rules"
    assert not RuleSet.objects.exists()


def test_rules_edited_to_hold_a_null_character_are_refused(admin_client, admin_user, site_a):
    from environment.services import rule_set_create

    draft = rule_set_create(actor=admin_user, site=site_a, rules={"modes": MODES})

    response = admin_client.patch(
        f"/api/environment/rule-sets/{draft.pk}/", {"rules": {"modes": MODES, "x\x00": 1}}, format="json"
    )

    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.rules == {"modes": MODES}
