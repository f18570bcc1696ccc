"""What every settings reader shares: `SettingsError` and the masking of passwords in URLs.

`studio.settings` and `studio.hosting_settings` both import this module and it
imports neither, so reading the `[hosting]` settings needs no import circle.
"""

from __future__ import annotations

from studio.errors import StudioError

MASK = "•••"


class SettingsError(StudioError, ValueError):
    """A setting has a value we cannot use; the message names it and says how to fix it."""

    default_code = "bad_setting"


def mask_url_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    userinfo, _, hostpart = rest.partition("@")
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}://{user}{':' + MASK if colon else ''}@{hostpart}"
