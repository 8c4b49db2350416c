from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from attendance_site import health
from attendance_site.api import not_found
from attendance_site.outages import server_error
from attendance_site.schema_view import CachedSchemaView
from biometrics import urls as biometrics_urls
from dashboard import urls as dashboard_urls
from streaming import urls as streaming_urls

urlpatterns = [
    path("", include(accounts_urls.page_urlpatterns)),
    path("", include(dashboard_urls.page_urlpatterns)),
    path("", include(streaming_urls.page_urlpatterns)),
    path("", include(biometrics_urls.page_urlpatterns)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/auth/", include(accounts_urls.auth_urlpatterns)),
    path("api/accounts/", include("accounts.urls")),
    path("api/employees/", include("employees.urls")),
    path("api/attendance/", include("attendance.urls")),
    path("api/biometrics/", include("biometrics.urls")),
    path("api/dashboard/", include("dashboard.urls")),
    path("api/environment/", include("environment.urls")),
    path("api/simulations/", include("simulations.urls")),
    path("api/streams/", include("streaming.urls")),
    path("api/schema/", CachedSchemaView.as_view(), name="schema"),
    # Split: Swagger UI's start-up script is served from a URL of its own, not inline.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # Enabled plugins' pages (/plugins/<base_url>/) and API (/api/plugins/<base_url>/).
    path("", include("attendance_site.plugins.urls")),
]

# Outages (Redis, the database) answer 503 with Retry-After, everything else a plain 500.
handler500 = server_error
handler404 = not_found
