from django.http import HttpRequest, HttpResponse
from django.urls import path

from attendance_site.plugins import plugin_setting

PLUGIN = "tests.plugin_examples.greeter"


def greeting_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{plugin_setting(PLUGIN, 'greeting')}{plugin_setting(PLUGIN, 'punctuation')}")


urlpatterns = [path("", greeting_page, name="greeter-page")]
