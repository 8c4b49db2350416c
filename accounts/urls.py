from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.api import CurrentUserView, TokenObtainView, TokenRevokeView, TokenRotateView, router

app_name = "accounts"
urlpatterns = [path("me/", CurrentUserView.as_view(), name="me"), *router.urls]

# Mounted at /api/auth/ (the token URL predates the app's own prefix).
auth_urlpatterns = [
    path("token/", TokenObtainView.as_view(), name="api-token"),
    path("token/rotate/", TokenRotateView.as_view(), name="api-token-rotate"),
    path("token/revoke/", TokenRevokeView.as_view(), name="api-token-revoke"),
]

# Pages, mounted at the site root outside the API's namespace.
page_urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
