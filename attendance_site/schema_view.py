"""`/api/schema/`, built once per process."""

from typing import ClassVar

from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response


class CachedSchemaView(SpectacularAPIView):
    """`/api/schema/`: the document is built once per process, not per request.

    Building it costs 1.5-4.5 s of CPU, and the view is open to anyone (the document is
    public: `SERVE_PUBLIC`), so a loop of anonymous requests could keep a web process
    busy. It only changes with the code, which a deploy restarts the process for.
    """

    _documents: ClassVar[dict[str | None, dict]] = {}

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        if version not in self._documents:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            self._documents[version] = generator.get_schema(request=request, public=True)
        return Response(
            data=self._documents[version],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
