from biometrics.api import router

app_name = "biometrics"
urlpatterns = router.urls
