"""Vendor result links as we keep them: without the signature that lets anyone fetch the file.

OSS, COS and S3 hand out results at signed links (`?Expires=...&OSSAccessKeyId=...&Signature=...`,
`?q-sign-algorithm=...&q-signature=...`, `?X-Amz-Credential=...&X-Amz-Signature=...`). While a
result is being downloaded the worker needs the whole link; what is stored for good (an
output's `source_url`, the notes of a job whose results were lost) keeps only the scheme, host
and path: enough to say where an image came from, useless to fetch it again.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def without_signature(url: str | None) -> str | None:
    """`url` with no query, fragment or user:password; None and "" stay as they are."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None  # not a link we can read: keep nothing rather than a secret
    if not parts.scheme or not parts.netloc:
        return url.split("?", 1)[0].split("#", 1)[0]
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
