"""The `[hosting]` settings: where inputs go for vendors that take them only as links.

`read_hosting_settings` reads `STUDIO_*` variables, then the `[hosting]` table of
secrets.toml, into the frozen `HostingSettings` value. Both `studio.settings`
(which reads it) and `studio.hosting` (whose hosts are built from it) import
this module, and it imports neither, so there is no import circle.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from studio.settings_base import SettingsError, mask_url_password

HostingMode = Literal["s3", "folder"]
Addressing = Literal["virtual", "path"]

DEFAULT_PREFIX = "inputs/"
DEFAULT_TTL_S = 3600
MIN_TTL_S = 60
# SigV4 presigned URLs cannot live longer than 7 days; boto3 signs longer ones that servers then reject.
MAX_TTL_S = 604_800

_ADDRESSING: tuple[Addressing, ...] = ("virtual", "path")
_PREFIX_CHARS = re.compile(r"^[A-Za-z0-9._/-]*$")
_ENV_NAMES = {
    "s3_bucket": "STUDIO_S3_BUCKET",
    "s3_endpoint_url": "STUDIO_S3_ENDPOINT_URL",
    "s3_region": "STUDIO_S3_REGION",
    "s3_addressing": "STUDIO_S3_ADDRESSING",
    "s3_prefix": "STUDIO_S3_PREFIX",
    "url_ttl_s": "STUDIO_URL_TTL_S",
    "publish_dir": "STUDIO_PUBLISH_DIR",
    "public_base_url": "STUDIO_PUBLIC_BASE_URL",
}


def safe_url(url: str) -> str:
    """The URL without its query string (which holds a presigned URL's signature), for logs and notes."""
    parts = urlsplit(url)
    return mask_url_password(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))


@dataclass(frozen=True)
class HostingSettings:
    mode: HostingMode | None = None
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    # None: boto3's own choice (plain AWS without a custom endpoint).
    s3_addressing: Addressing | None = None
    s3_prefix: str = DEFAULT_PREFIX
    url_ttl_s: int = DEFAULT_TTL_S
    publish_dir: Path | None = None
    public_base_url: str | None = None
    # setting name -> "env" | "secrets": the settings page shows where a value came from.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def summary(self) -> dict[str, str]:
        """The facts `describe` puts in a sentence, for a page that words them in its language:
        mode ("none" when not set up), and for s3 bucket, endpoint ("" = AWS), region, addressing, prefix ("" = the bucket
        root), ttl; for folder, folder and url. Never credentials."""
        if self.mode == "s3":
            return {
                "mode": "s3",
                "bucket": str(self.s3_bucket or ""),
                "endpoint": safe_url(self.s3_endpoint_url) if self.s3_endpoint_url else "",
                "region": self.s3_region or "",
                "addressing": self.s3_addressing or "",
                "prefix": self.s3_prefix or "",
                "ttl": _duration(self.url_ttl_s),
            }
        if self.mode != "folder":
            return {"mode": "none"}
        return {
            "mode": "folder",
            "folder": str(self.publish_dir),
            "url": safe_url(self.public_base_url or ""),
        }

    def describe(self) -> str:
        """A one-line summary for the settings page: where inputs go, never credentials."""
        if self.mode == "s3":
            where = f" at {safe_url(self.s3_endpoint_url)}" if self.s3_endpoint_url else " on AWS"
            region = self.s3_region or "boto3 default"
            addressing = self.s3_addressing or "boto3 default"
            prefix = self.s3_prefix or "(bucket root)"
            return (
                f"S3 bucket '{self.s3_bucket}'{where} (region {region}, {addressing} addressing); "
                f"keys under {prefix}; links expire after {_duration(self.url_ttl_s)}"
            )
        if self.mode == "folder":
            return (
                f"Folder {self.publish_dir} published at {safe_url(self.public_base_url or '')}; "
                "links do not expire and anyone with a link can fetch the file"
            )
        return "Not configured: providers that take inputs only as links cannot be used"


def read_hosting_settings(env: Mapping[str, str], section: Mapping[str, Any]) -> HostingSettings:
    """Hosting settings from `STUDIO_*` environment variables, then the `[hosting]` table of secrets.toml.

    Raises `SettingsError` naming the setting and saying how to fix it.
    """
    sources: dict[str, str] = {}

    def pick(name: str) -> str | None:
        from_env = env.get(_ENV_NAMES[name], "").strip()
        if from_env:
            sources[name] = "env"
            return from_env
        value = section.get(name)
        if value is not None and str(value).strip():
            sources[name] = "secrets"
            return str(value).strip()
        return None

    def where(name: str) -> str:
        if sources.get(name) == "secrets":
            return f"{name} in [hosting] of secrets.toml"
        return _ENV_NAMES[name]

    bucket = pick("s3_bucket")
    endpoint = pick("s3_endpoint_url")
    region = pick("s3_region")
    addressing_raw = pick("s3_addressing")
    prefix_raw = pick("s3_prefix")
    ttl_raw = pick("url_ttl_s")
    publish_dir_raw = pick("publish_dir")
    base_url = pick("public_base_url")

    folder_given = publish_dir_raw is not None or base_url is not None
    if bucket is not None and folder_given:
        raise SettingsError(
            f"Both S3 hosting ({where('s3_bucket')}) and folder hosting "
            f"({where('publish_dir') if publish_dir_raw else where('public_base_url')}) are set; "
            "choose one and remove the other"
        )
    if bucket is None:
        stray = [
            name for name in ("s3_endpoint_url", "s3_region", "s3_addressing", "s3_prefix") if name in sources
        ]
        if stray:
            raise SettingsError(
                f"{where(stray[0])} is set but STUDIO_S3_BUCKET is not; set the bucket name "
                "(or remove the S3 settings)"
            )

    ttl = _read_ttl(ttl_raw, where("url_ttl_s")) if ttl_raw is not None else DEFAULT_TTL_S

    if bucket is not None:
        if any(char in bucket for char in "/:") or any(char.isspace() for char in bucket):
            raise SettingsError(
                f"{where('s3_bucket')} is '{bucket}'; give the bucket name only (e.g. 'my-inputs'), "
                "not a URL or path: the endpoint goes in STUDIO_S3_ENDPOINT_URL"
            )
        if endpoint is not None:
            check_http_url(endpoint, where("s3_endpoint_url"), "https://s3.oss-cn-hongkong.aliyuncs.com")
        addressing = read_addressing(addressing_raw, where("s3_addressing"), endpoint)
        return HostingSettings(
            mode="s3",
            s3_bucket=bucket,
            s3_endpoint_url=endpoint.rstrip("/") if endpoint else None,
            s3_region=region,
            s3_addressing=addressing,
            s3_prefix=_read_prefix(prefix_raw, where("s3_prefix")),
            url_ttl_s=ttl,
            sources=sources,
        )

    if folder_given:
        if publish_dir_raw is None:
            raise SettingsError(
                f"{where('public_base_url')} is set but STUDIO_PUBLISH_DIR is not; set the folder "
                "that your web server publishes at that URL"
            )
        if base_url is None:
            raise SettingsError(
                f"{where('publish_dir')} is set but STUDIO_PUBLIC_BASE_URL is not; set the public "
                "http(s) URL at which that folder is served (e.g. https://example.com/inputs)"
            )
        check_http_url(base_url, where("public_base_url"), "https://example.com/inputs")
        return HostingSettings(
            mode="folder",
            url_ttl_s=ttl,
            publish_dir=Path(publish_dir_raw).expanduser().resolve(),
            public_base_url=base_url,
            sources=sources,
        )

    return HostingSettings(url_ttl_s=ttl, sources=sources)


def _read_ttl(raw: str, name: str) -> int:
    try:
        ttl = int(raw.replace("_", ""))
    except ValueError:
        raise SettingsError(
            f"{name} is '{raw}', not a whole number of seconds; set it to e.g. {DEFAULT_TTL_S}"
        ) from None
    if not MIN_TTL_S <= ttl <= MAX_TTL_S:
        raise SettingsError(
            f"{name} is {ttl}; use between {MIN_TTL_S} (1 minute) and {MAX_TTL_S} seconds "
            "(7 days, the longest a signed link may live)"
        )
    return ttl


def read_addressing(raw: str | None, name: str, endpoint: str | None) -> Addressing | None:
    if raw is not None:
        value = raw.lower()
        if value == "virtual":
            return "virtual"
        if value == "path":
            return "path"
        raise SettingsError(
            f"{name} is '{raw}'; use 'virtual' (Alibaba OSS, Tencent COS, AWS) or 'path' (MinIO, local test servers)"
        )
    if endpoint is None:
        return None
    # Local test servers cannot resolve "<bucket>.localhost"; every cloud store takes (OSS and new COS
    # buckets require) virtual-hosted names.
    return "path" if _is_local_or_plain_http(endpoint) else "virtual"


def _is_local_or_plain_http(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "http":
        return True
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_prefix(raw: str | None, name: str) -> str:
    if raw is None:
        return DEFAULT_PREFIX
    prefix = raw.strip("/")
    if not _PREFIX_CHARS.match(prefix) or ".." in prefix.split("/"):
        raise SettingsError(
            f"{name} is '{raw}'; use plain ASCII letters, digits, '-', '_', '.' and '/' (e.g. 'inputs/')"
        )
    # Keys are "<prefix><date>/<name>", so a non-empty prefix must end in a slash to be a folder.
    return f"{prefix}/" if prefix else ""


def check_http_url(url: str, name: str, example: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} is '{safe_url(url)}'; it must be an http(s) URL such as {example}")


def _duration(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
