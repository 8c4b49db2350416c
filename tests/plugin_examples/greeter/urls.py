from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.urls import path


def greeting_page(request: HttpRequest) -> HttpResponse:
    settings = apps.get_app_config("greeter").settings
    return HttpResponse(f"{settings['greeting']}{settings['punctuation']}")


urlpatterns = [path("", greeting_page, name="greeter-page")]
