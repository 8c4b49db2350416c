from django.urls import path

from biometrics import views
from biometrics.api import router

app_name = "biometrics"
urlpatterns = router.urls

# Pages, mounted at the site root outside the API's namespace.
page_urlpatterns = [
    path("qr/<str:link_token>/", views.qr_page, name="biometrics-qr-page"),
    path("qr/<str:link_token>/code.png", views.qr_image, name="biometrics-qr-image"),
]
