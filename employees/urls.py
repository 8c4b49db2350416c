from employees.api import router

app_name = "employees"
urlpatterns = router.urls
