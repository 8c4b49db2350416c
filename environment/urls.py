from environment.api import router

app_name = "environment"
urlpatterns = router.urls
