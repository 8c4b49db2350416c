"""The Content-Security-Policy header: django-csp's middleware, with two additions per request.

The policy itself is CONTENT_SECURITY_POLICY in settings.
"""

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost

# Pages built from templates we do not own carry inline styles: the Django admin (and
# guardian's permission pages in it), DRF's browsable API and Swagger UI. Inline styles
# are allowed there; inline scripts stay refused everywhere.
INLINE_STYLE_PATH_PREFIXES = ("/admin/", "/api/")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        additions: dict[str, list[str]] = {"connect-src": _own_websocket_origin(request)}
        if request.path_info.startswith(INLINE_STYLE_PATH_PREFIXES):
            additions["style-src"] = [UNSAFE_INLINE]
        update = dict(parts.update or {})
        for directive, sources in additions.items():
            earlier = update.get(directive) or []
            update[directive] = [*([earlier] if isinstance(earlier, str) else earlier), *sources]
        parts.update = update
        return parts


def _own_websocket_origin(request) -> list[str]:
    """ws(s):// of the page's own host: 'self' covers it only in browsers that implement CSP 3."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return []
    return [f"{'wss' if request.is_secure() else 'ws'}://{host}"]
