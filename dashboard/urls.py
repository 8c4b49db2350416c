from django.urls import path

from dashboard.api import ChartsView, PresenceView

app_name = "dashboard"
urlpatterns = [
    path("presence/", PresenceView.as_view(), name="presence"),
    path("charts/", ChartsView.as_view(), name="charts"),
]
