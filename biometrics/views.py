"""The employee's QR page: a rotating code, opened through a signed bearer link."""

import io

import qrcode
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from qrcode.image.pil import PilImage

from biometrics.services.qr import qr_page_employee, qr_token_issue


@never_cache
def qr_page(request, link_token: str):
    employee = qr_page_employee(link_token=link_token)
    if employee is None:
        raise Http404("This QR link is invalid or was revoked.")
    return render(
        request,
        "biometrics/qr_page.html",
        {"employee": employee, "link_token": link_token, "refresh_seconds": settings.QR_TOKEN_WINDOW_SECONDS},
    )


@never_cache
def qr_image(request, link_token: str):
    employee = qr_page_employee(link_token=link_token)
    if employee is None:
        raise Http404("This QR link is invalid or was revoked.")
    token = qr_token_issue(employee=employee)
    buffer = io.BytesIO()
    qrcode.make(token.token, box_size=8, border=2, image_factory=PilImage).save(buffer, format="PNG")
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["X-QR-Valid-Until"] = token.valid_until.isoformat()
    return response
