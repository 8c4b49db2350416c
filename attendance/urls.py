from attendance.api import router

app_name = "attendance"
urlpatterns = router.urls
