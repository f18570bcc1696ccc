"""Input hosting: make an uploaded image reachable by URL for vendors that only take URLs.

Tencent ReplaceBackground and the Aliyun Marketplace background API accept
inputs only as http(s) links (shared/image-hosting.md). Two ways to get one:

- `S3Host`: put the bytes into an S3-compatible bucket (AWS, Alibaba OSS,
  Tencent COS, R2, MinIO) and hand out a presigned GET URL that expires.
- `FolderHost`: copy the bytes into a folder that a web server already
  publishes under a public base URL (for deployments reachable from the
  internet).

This module owns the two hosts behind one `InputHost` protocol and
`HostingError`; the `[hosting]` settings they are built from live in
`studio.hosting_settings` (re-exported here). S3 credentials are
left to boto3's own chain (AWS_* variables, ~/.aws files, instance roles):
we never read, store or print them. Presigned URLs carry a signature that
works as a bearer token until it expires, so error messages are scrubbed
and `safe_url` gives a loggable form.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

# Re-exported: the [hosting] settings moved to studio.hosting_settings (no circle with studio.settings).
from studio.errors import StudioError
from studio.hosting_settings import DEFAULT_PREFIX as DEFAULT_PREFIX
from studio.hosting_settings import DEFAULT_TTL_S as DEFAULT_TTL_S
from studio.hosting_settings import MAX_TTL_S as MAX_TTL_S
from studio.hosting_settings import MIN_TTL_S as MIN_TTL_S
from studio.hosting_settings import Addressing as Addressing
from studio.hosting_settings import HostingMode as HostingMode
from studio.hosting_settings import HostingSettings, safe_url
from studio.hosting_settings import read_hosting_settings as read_hosting_settings

# Uploads are single images of a few MB: a slow store should fail within a minute, not hang a worker.
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60

_SUFFIX = re.compile(r"^[a-z0-9]{1,8}$")
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_FOLDER_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,8}$")
# Our S3 keys end in "<yyyy-mm-dd>/<uuid hex>.<suffix>" whatever the prefix was when they were written;
# `remove` refuses anything else so a bad handle can never delete someone else's object.
_S3_KEY_TAIL = re.compile(r"(^|/)\d{4}-\d{2}-\d{2}/[0-9a-f]{32}\.[a-z0-9]{1,8}$")
_CREDENTIALS_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the bucket's access key, e.g. an OSS AccessKey or a "
    "COS SecretId/SecretKey) in the environment, or a profile in ~/.aws/credentials chosen with AWS_PROFILE"
)
_PERMISSIONS_HINT = "the key needs permission to put, get and delete objects in that bucket (and to list it)"

# Query parameters that authorise a request by themselves (S3 SigV4/V2, OSS V4, COS).
_SECRET_PARAMS = re.compile(
    r"((?:X-Amz-(?:Signature|Credential|Security-Token)|AWSAccessKeyId|Signature|"
    r"x-oss-(?:signature|credential|security-token)|q-signature|q-ak|x-cos-security-token)=)[^&\s'\"<>]+",
    re.IGNORECASE,
)
_URL_QUERY = re.compile(r"(https?://[^\s?#'\"<>]+)\?[^\s#'\"<>]*", re.IGNORECASE)


class HostingError(StudioError):
    """Hosting an input failed; the message says what failed and what to do.

    The message is scrubbed on construction: URL query strings and signature or
    credential parameters are removed, so it is safe to log and to show.
    """

    default_code = "hosting_failed"

    def __init__(self, message: str) -> None:
        super().__init__(scrub(message))


def scrub(text: str) -> str:
    """`text` without URL query strings or anything that looks like a signature or access key."""
    return _SECRET_PARAMS.sub(r"\1***", _URL_QUERY.sub(r"\1", text))


# ---------------------------------------------------------------- hosts


@dataclass(frozen=True)
class HostedFile:
    # A presigned URL works as a password until it expires: kept out of repr, log `safe_url(url)`.
    url: str = field(repr=False)
    # What `remove` needs: the object key (S3) or the file name (folder).
    handle: str
    # Unix time after which the URL stops working; None when it does not expire.
    expires_at: float | None


class InputHost(Protocol):
    label: str

    def publish(self, data: bytes, *, suffix: str, content_type: str) -> HostedFile:
        """Store `data` unchanged and return a URL from which a vendor can fetch it."""
        ...

    def remove(self, handle: str) -> None:
        """Delete a published file; a file that is already gone is not an error."""
        ...

    def check(self) -> None:
        """One cheap round trip for the settings page's "test connection"; raises `HostingError`."""
        ...


def _normalise_suffix(suffix: str) -> str:
    value = suffix.lstrip(".").lower()
    if not _SUFFIX.match(value):
        raise ValueError(f"file suffix '{suffix}' must be 1-8 ASCII letters or digits, e.g. 'png'")
    return value


def _check_content_type(content_type: str) -> None:
    if not _CONTENT_TYPE.match(content_type):
        raise ValueError(f"content type '{content_type}' is not a MIME type such as 'image/png'")


def s3_config(settings: HostingSettings) -> Any:
    """The botocore `Config` every S3 client of ours uses (see shared/image-hosting.md §3-4)."""
    from botocore.config import Config

    s3_options: dict[str, str] = {}
    if settings.s3_addressing:
        s3_options["addressing_style"] = settings.s3_addressing
    return Config(
        # Without it a custom endpoint can get legacy SigV2 URLs, which OSS and COS are retiring.
        signature_version="s3v4",
        s3=s3_options,
        # botocore's default CRC32 goes into an aws-chunked trailer over https, which OSS rejects.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )


def new_s3_client(
    settings: HostingSettings, *, access_key_id: str | None = None, secret_access_key: str | None = None
) -> Any:
    """The one place our S3 clients are made (input hosting, shared job files). Keys left out come
    from boto3's own chain (AWS_* variables, ~/.aws files, instance roles)."""
    import boto3

    keys = (
        {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        if access_key_id and secret_access_key
        else {}
    )
    # A session of our own: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        config=s3_config(settings),
        **keys,
    )


class S3Host:
    """Inputs in an S3-compatible bucket, shared through presigned GET URLs that expire."""

    def __init__(
        self, settings: HostingSettings, client: Any = None, clock: Callable[[], float] = time.time
    ) -> None:
        if settings.mode != "s3" or not settings.s3_bucket:
            raise ValueError("S3Host needs hosting settings in s3 mode (with a bucket)")
        self.settings = settings
        self.bucket = settings.s3_bucket
        self._clock = clock
        if client is None:
            client = new_s3_client(settings)
        self.client = client
        where = urlsplit(settings.s3_endpoint_url).hostname if settings.s3_endpoint_url else "AWS"
        self.label = f"S3 bucket {self.bucket} ({where})"

    def publish(self, data: bytes, *, suffix: str, content_type: str) -> HostedFile:
        suffix = _normalise_suffix(suffix)
        _check_content_type(content_type)
        day = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%d")
        # Random and ASCII: unguessable, and nothing for a vendor's fetcher to double-encode.
        key = f"{self.settings.s3_prefix}{day}/{uuid.uuid4().hex}.{suffix}"
        self._call(
            "upload the input",
            lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type),
        )
        signed_at = self._clock()
        url = self._call(
            "sign a link to the input",
            lambda: self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=self.settings.url_ttl_s,
            ),
        )
        return HostedFile(url=str(url), handle=key, expires_at=signed_at + self.settings.url_ttl_s)

    def remove(self, handle: str) -> None:
        if not _S3_KEY_TAIL.search(handle):
            raise HostingError(f"'{handle}' is not an input this app published; nothing was deleted")
        self._call("delete the input", lambda: self._delete(handle))

    def _delete(self, key: str) -> None:
        from botocore.exceptions import ClientError

        try:
            # S3 answers 204 for a key that does not exist; some compatible stores answer NoSuchKey.
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchKey":
                raise

    def check(self) -> None:
        self._call("reach the bucket", lambda: self.client.head_bucket(Bucket=self.bucket))

    def _call(self, action: str, call: Callable[[], Any]) -> Any:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
            ReadTimeoutError,
        )

        try:
            return call()
        except (NoCredentialsError, PartialCredentialsError):
            raise HostingError(
                f"Could not {action}: no S3 credentials were found; {_CREDENTIALS_HINT}"
            ) from None
        except ReadTimeoutError:
            raise HostingError(
                f"Could not {action}: {self._endpoint()} accepted the connection but did not answer "
                f"within {READ_TIMEOUT_S} s; try again, or check the store's status"
            ) from None
        except ConnectionError:
            raise HostingError(
                f"Could not {action}: {self._endpoint()} is unreachable; check STUDIO_S3_ENDPOINT_URL "
                "and this machine's network connection"
            ) from None
        except ClientError as exc:
            raise HostingError(f"Could not {action}: {self._explain(exc)}") from None
        except BotoCoreError as exc:
            raise HostingError(f"Could not {action}: {type(exc).__name__}: {exc}") from None

    def _endpoint(self) -> str:
        if self.settings.s3_endpoint_url:
            return f"the endpoint {safe_url(self.settings.s3_endpoint_url)}"
        return "AWS S3"

    def _explain(self, exc: Any) -> str:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(error.get("Message", "")).strip()
        bucket = f"bucket '{self.bucket}'"
        region = self.settings.s3_region or "the boto3 default region"
        if code in ("NoSuchBucket", "404", "NotFound"):
            return (
                f"the {bucket} does not exist at {self._endpoint()} (region {region}); check "
                "STUDIO_S3_BUCKET and STUDIO_S3_REGION, or create the bucket"
            )
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"):
            return f"the store rejected the access key ({code}); {_CREDENTIALS_HINT}"
        if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
            return f"access to the {bucket} was denied ({code}); {_PERMISSIONS_HINT}"
        if code in (
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
            "IllegalLocationConstraintException",
            "301",
        ):
            return (
                f"the {bucket} lives in another region or endpoint ({code}); set STUDIO_S3_REGION "
                "(and STUDIO_S3_ENDPOINT_URL) to the bucket's own"
            )
        if code == "PublicEndpointForbidden":
            return (
                "Alibaba OSS refuses data access through its default public domain for this account "
                "(mainland-China buckets of accounts opened after 2025-03-20); use a bucket in a region "
                "outside the mainland such as cn-hongkong"
            )
        if code == "SecondLevelDomainForbidden":
            return f"the store wants virtual-hosted addressing ({code}); set STUDIO_S3_ADDRESSING=virtual"
        detail = f": {message}" if message else ""
        return f"the store answered {code or 'an error'} (HTTP {status}){detail}"


class FolderHost:
    """Inputs copied into a folder that a web server publishes under `public_base_url`.

    Links do not expire and are unauthenticated: only the random file name protects them.
    """

    def __init__(self, settings: HostingSettings) -> None:
        if settings.mode != "folder" or settings.publish_dir is None or not settings.public_base_url:
            raise ValueError("FolderHost needs hosting settings in folder mode (folder and public URL)")
        self.directory = settings.publish_dir
        self.base_url = settings.public_base_url.rstrip("/")
        self.label = f"folder {self.directory}"

    def publish(self, data: bytes, *, suffix: str, content_type: str) -> HostedFile:
        _check_content_type(content_type)  # the web server derives the type from the suffix
        name = f"{uuid.uuid4().hex}.{_normalise_suffix(suffix)}"
        self._write(name, data, "publish the input")
        return HostedFile(url=f"{self.base_url}/{name}", handle=name, expires_at=None)

    def remove(self, handle: str) -> None:
        if not _FOLDER_NAME.match(handle):
            raise HostingError(f"'{handle}' is not an input this app published; nothing was deleted")
        try:
            (self.directory / handle).unlink(missing_ok=True)
        except OSError as exc:
            raise HostingError(
                f"Could not delete {handle} from {self.directory}: {exc.strerror}; check that the app may "
                "write to that folder"
            ) from None

    def check(self) -> None:
        name = f".studio-probe-{uuid.uuid4().hex}.txt"
        payload = name.encode("ascii")
        self._write(name, payload, "write a test file")
        path = self.directory / name
        try:
            if path.read_bytes() != payload:
                raise HostingError(f"A test file written to {self.directory} read back different bytes")
        except OSError as exc:
            raise HostingError(
                f"Could not read back a test file in {self.directory}: {exc.strerror}"
            ) from None
        finally:
            path.unlink(missing_ok=True)

    def _write(self, name: str, data: bytes, action: str) -> None:
        temp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # A temporary name in the same folder and os.replace: the web server never serves half a file.
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            # mkstemp creates 0600; the web server usually runs as another user and must read it.
            os.chmod(temp, 0o644)
            os.replace(temp, self.directory / name)
            temp = None
        except OSError as exc:
            raise HostingError(
                f"Could not {action} in {self.directory}: {exc.strerror or exc}; check STUDIO_PUBLISH_DIR "
                "and that the app may create and write files there"
            ) from None
        finally:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)


def build_host(settings: HostingSettings) -> InputHost | None:
    """The host the settings ask for, or None when hosting is not configured."""
    if settings.mode == "s3":
        return S3Host(settings)
    if settings.mode == "folder":
        return FolderHost(settings)
    return None
