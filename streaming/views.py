"""The player page and the HLS files of a stream, only for people who may see its site."""

import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from streaming.selectors import camera_streams_visible_to
from streaming.services import stream_output_dir

HLS_FILE = re.compile(r"^(index\.m3u8|[A-Za-z0-9_-]+\.ts)$")
CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}


@login_required
@require_GET
def hls_file(request, stream_id: int, filename: str):
    if not HLS_FILE.match(filename) or not camera_streams_visible_to(request.user).filter(pk=stream_id).exists():
        raise Http404("No such stream file.")
    path = stream_output_dir(stream_id) / filename
    if not path.is_file():
        raise Http404("No such stream file (yet).")
    try:
        opened = path.open("rb")
    except FileNotFoundError:  # a segment deleted as it left the window, since the check above
        raise Http404("No such stream file (any more).")
    response = FileResponse(opened, content_type=CONTENT_TYPES[path.suffix])
    # The playlist changes every second; segments never change once written.
    response["Cache-Control"] = "no-cache, no-store" if path.suffix == ".m3u8" else "private, max-age=60"
    return response


@login_required
@require_GET
def stream_player(request, stream_id: int):
    stream = get_object_or_404(camera_streams_visible_to(request.user).select_related("site"), pk=stream_id)
    return render(
        request,
        "streaming/player.html",
        {"stream": stream, "playlist_url": reverse("stream-hls", args=[stream.pk, "index.m3u8"])},
    )
