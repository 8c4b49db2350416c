"""Rule sets as the API shows them, here as well as in simulations (a recommendation's draft)."""

from accounts.selectors import sites_visible_to
from attendance_site.serializers import JSONField, ModelSerializer, ScopedPrimaryKeyRelatedField
from environment.models import RuleSet


class RuleSetSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(
        selector=sites_visible_to, allow_null=True, required=False, help_text="Empty: the default rule set."
    )
    rules = JSONField(help_text="See docs/environment.md.")

    class Meta:
        model = RuleSet
        fields = ["id", "site", "version", "status", "rules", "note", "created_by", "created_at", "activated_at"]
        read_only_fields = ["version", "status", "created_by", "created_at", "activated_at"]
