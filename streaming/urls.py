from streaming.api import router

app_name = "streaming"
urlpatterns = router.urls
