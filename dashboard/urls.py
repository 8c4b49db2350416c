from django.urls import path
from django.views.generic import RedirectView

from dashboard import views
from dashboard.api import ChartsView, PresenceView

app_name = "dashboard"
urlpatterns = [
    path("presence/", PresenceView.as_view(), name="presence"),
    path("charts/", ChartsView.as_view(), name="charts"),
]

# Pages, mounted at the site root outside the API's namespace; the dashboard is the home page.
page_urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("dashboard/", views.dashboard, name="dashboard"),
]
