from accounts.api import router

app_name = "accounts"
urlpatterns = router.urls
