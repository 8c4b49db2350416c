"""Load the demo data set into an empty database and print its credentials once."""

import os
import secrets

from django.core.management.base import BaseCommand

from demo.services import demo_dataset_create, demo_dataset_exists


class Command(BaseCommand):
    help = "Create the demo admin and data set (2 sites, ~30 employees, a week of attendance) if the database is empty."

    def handle(self, *args, **options):
        if demo_dataset_exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        admin_password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        viewer_password = os.environ.get("DEMO_VIEWER_PASSWORD") or secrets.token_urlsafe(12)
        dataset = demo_dataset_create(
            admin_username=os.environ.get("DEMO_ADMIN_USERNAME", "admin"),
            admin_password=admin_password,
            viewer_password=viewer_password,
        )
        lines = [
            "Demo data created. These credentials are shown once:",
            f"  admin:  {dataset.admin_username} / {dataset.admin_password}",
            f"  viewer: {dataset.viewer_username} / {dataset.viewer_password}  (Berlin HQ only, read-only)",
            "  device credentials (Authorization: Device <credential>):",
            *(f"    {name}: {credential}" for name, credential in dataset.device_credentials.items()),
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
