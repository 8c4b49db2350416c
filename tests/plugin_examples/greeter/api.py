from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attendance_site.plugins import plugin_setting


class GreetingView(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"greeting": plugin_setting("tests.plugin_examples.greeter", "greeting")})


urlpatterns = [path("greeting/", GreetingView.as_view(), name="greeter-greeting")]
