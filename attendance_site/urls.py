from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts.urls import auth_urlpatterns
from attendance_site import health
from attendance_site.api import not_found
from attendance_site.outages import server_error
from attendance_site.schema_view import CachedSchemaView
from biometrics import views as biometrics_views
from dashboard import views as dashboard_views
from streaming import views as streaming_views

urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/auth/", include(auth_urlpatterns)),
    path("api/accounts/", include("accounts.urls")),
    path("api/employees/", include("employees.urls")),
    path("api/attendance/", include("attendance.urls")),
    path("api/biometrics/", include("biometrics.urls")),
    path("api/dashboard/", include("dashboard.urls")),
    path("api/environment/", include("environment.urls")),
    path("api/simulations/", include("simulations.urls")),
    path("api/streams/", include("streaming.urls")),
    path("streams/<int:stream_id>/", streaming_views.stream_player, name="stream-player"),
    path("streams/<int:stream_id>/hls/<str:filename>", streaming_views.hls_file, name="stream-hls"),
    path("qr/<str:link_token>/", biometrics_views.qr_page, name="biometrics-qr-page"),
    path("qr/<str:link_token>/code.png", biometrics_views.qr_image, name="biometrics-qr-image"),
    path("api/schema/", CachedSchemaView.as_view(), name="schema"),
    # Split: Swagger UI's start-up script is served from a URL of its own, not inline.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]

# Outages (Redis, the database) answer 503 with Retry-After, everything else a plain 500.
handler500 = server_error
handler404 = not_found
