"""The shared-files setting: job files in the data folder (default) or an S3-compatible bucket.

    STUDIO_STORAGE=s3://bucket/prefix     (or `url` in the [storage] table of secrets.toml)
    STUDIO_STORAGE_ENDPOINT=https://...   (`endpoint`; unset: AWS itself)
    STUDIO_STORAGE_REGION=us-east-1       (`region`)
    STUDIO_STORAGE_ADDRESSING=path        (`addressing`: virtual or path; default as for hosting)

Keys: `access_key_id` and `secret_access_key` in [storage], else boto3's own chain
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, instance roles). They are kept out
of `repr` and of `describe()`, so the settings can be logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from studio.hosting_settings import (
    Addressing,
    HostingSettings,
    check_http_url,
    read_addressing,
    safe_url,
)
from studio.settings_base import SettingsError

_ENV = {
    "url": "STUDIO_STORAGE",
    "endpoint": "STUDIO_STORAGE_ENDPOINT",
    "region": "STUDIO_STORAGE_REGION",
    "addressing": "STUDIO_STORAGE_ADDRESSING",
}


@dataclass(frozen=True)
class StorageSettings:
    bucket: str
    prefix: str = ""  # "" or "team/studio/" (ends in a slash)
    endpoint_url: str | None = None
    region: str | None = None
    addressing: Addressing | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        """One line for logs and the settings page: where the files are, never the keys."""
        where = f" at {safe_url(self.endpoint_url)}" if self.endpoint_url else " on AWS"
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def as_hosting(self) -> HostingSettings:
        """The same bucket as `HostingSettings`, for `studio.hosting.new_s3_client`."""
        return HostingSettings(
            mode="s3",
            s3_bucket=self.bucket,
            s3_endpoint_url=self.endpoint_url,
            s3_region=self.region,
            s3_addressing=self.addressing,
            s3_prefix=self.prefix,
        )


def read_storage_settings(env: Mapping[str, str], section: Mapping[str, Any]) -> StorageSettings | None:
    """None: job files stay in the data folder. Raises `SettingsError` naming the setting to fix."""
    sources: dict[str, str] = {}

    def pick(name: str) -> str | None:
        if name in _ENV and env.get(_ENV[name], "").strip():
            sources[name] = _ENV[name]
            return env[_ENV[name]].strip()
        value = section.get(name)
        if value is not None and str(value).strip():
            sources[name] = f"{name} in [storage] of secrets.toml"
            return str(value).strip()
        return None

    url = pick("url")
    endpoint = pick("endpoint")
    if url is None or url.lower() in ("folder", "local", "file"):
        if endpoint is not None:
            raise SettingsError(
                f"{sources['endpoint']} is set but STUDIO_STORAGE is not; set STUDIO_STORAGE=s3://bucket/prefix "
                "to keep job files in a bucket, or unset the endpoint"
            )
        return None
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    bad_bucket = not parts.netloc or "@" in parts.netloc or ":" in parts.netloc
    if parts.scheme != "s3" or bad_bucket or parts.query or parts.fragment or ".." in prefix.split("/"):
        raise SettingsError(
            f"{sources['url']} is '{safe_url(url)}'; use s3://bucket or s3://bucket/prefix "
            "(the endpoint goes in STUDIO_STORAGE_ENDPOINT), or leave it unset for the data folder"
        )
    if endpoint is not None:
        check_http_url(endpoint, sources["endpoint"], "http://127.0.0.1:9000")
    key_id, secret = pick("access_key_id"), pick("secret_access_key")
    if (key_id is None) != (secret is None):
        raise SettingsError(
            "[storage] in secrets.toml needs both access_key_id and secret_access_key, or neither "
            "(then AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are used)"
        )
    return StorageSettings(
        bucket=parts.netloc,
        prefix=f"{prefix}/" if prefix else "",
        endpoint_url=endpoint.rstrip("/") if endpoint else None,
        region=pick("region"),
        addressing=read_addressing(pick("addressing"), sources.get("addressing", ""), endpoint),
        access_key_id=key_id,
        secret_access_key=secret,
    )
