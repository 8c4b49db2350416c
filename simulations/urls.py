from simulations.api import router

app_name = "simulations"
urlpatterns = router.urls
