"""People's API tokens: ``Authorization: Token <key>``, hashed at rest and expiring (knox)."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth


class TokenAuthentication(auth.TokenAuthentication):
    """knox's token authentication, without its sweep of the person's other tokens.

    knox deletes every expired token of the person on each request it authenticates: one
    more query on every API call. Expired tokens are swept when the person gets a new one
    instead (``accounts.services.api_token_create``); an expired token that is presented
    is refused and deleted here, as knox does.
    """

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <key>`: the key from `POST /api/auth/token/`. It expires (see `expiry` in that "
                "answer); rotate it with `POST /api/auth/token/rotate/`."
            ),
        }
