from django.urls import path

from accounts.api import CurrentUserView, router

app_name = "accounts"
urlpatterns = [path("me/", CurrentUserView.as_view(), name="me"), *router.urls]
