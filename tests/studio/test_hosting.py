"""Input hosting: settings, S3 presigned links against a loopback moto server, a published folder.

Everything runs on 127.0.0.1. moto does not check presigned signatures or expiry
(shared/image-hosting.md §6), so those are asserted on the URL itself, and
virtual-hosted addressing (which loopback cannot resolve) is checked offline
with botocore's Stubber standing in for the upload.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from studio.hosting import (
    DEFAULT_PREFIX,
    FolderHost,
    HostedFile,
    HostingError,
    HostingSettings,
    S3Host,
    build_host,
    read_hosting_settings,
    s3_config,
    safe_url,
    scrub,
)
from studio.settings import SettingsError
from tests.s3_loopback import moto_endpoint, no_aws_config

__all__ = ["moto_endpoint"]  # fixtures

FAKE_KEY_ID = "AKIAFAKEHOSTINGTEST1"
FAKE_SECRET = "fake/Secret+Key0123456789abcdefghijklmn"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # not valid UTF-8: any re-encoding would show
FIXED_NOW = 1_798_934_400.0  # 2027-01-03T00:00:00Z
KEY_SHAPE = re.compile(r"^inputs/2027-01-03/[0-9a-f]{32}\.png$")


# ---------------------------------------------------------------- settings


def test_nothing_configured_means_no_host() -> None:
    settings = read_hosting_settings({}, {})
    assert settings == HostingSettings()
    assert settings.mode is None and settings.url_ttl_s == 3600 and settings.s3_prefix == "inputs/"
    assert build_host(settings) is None
    assert "Not configured" in settings.describe()


def test_every_s3_environment_variable_is_read() -> None:
    env = {
        "STUDIO_S3_BUCKET": "studio-inputs",
        "STUDIO_S3_ENDPOINT_URL": "https://s3.oss-cn-hongkong.aliyuncs.com/",
        "STUDIO_S3_REGION": "cn-hongkong",
        "STUDIO_S3_ADDRESSING": "Path",
        "STUDIO_S3_PREFIX": "/uploads/studio",
        "STUDIO_URL_TTL_S": "7_200",
    }
    settings = read_hosting_settings(env, {})
    assert settings == HostingSettings(
        mode="s3",
        s3_bucket="studio-inputs",
        s3_endpoint_url="https://s3.oss-cn-hongkong.aliyuncs.com",
        s3_region="cn-hongkong",
        s3_addressing="path",
        s3_prefix="uploads/studio/",
        url_ttl_s=7200,
    )
    assert set(settings.sources.values()) == {"env"} and len(settings.sources) == 6


def test_every_folder_environment_variable_is_read(tmp_path: Path) -> None:
    env = {"STUDIO_PUBLISH_DIR": str(tmp_path / "pub"), "STUDIO_PUBLIC_BASE_URL": "https://example.com/in/"}
    settings = read_hosting_settings(env, {})
    assert settings.mode == "folder"
    assert settings.publish_dir == tmp_path / "pub"
    assert settings.public_base_url == "https://example.com/in/"
    assert isinstance(build_host(settings), FolderHost)


def test_the_hosting_section_of_secrets_is_read(tmp_path: Path) -> None:
    section = {
        "s3_bucket": "studio-inputs",
        "s3_endpoint_url": "https://cos.ap-guangzhou.myqcloud.com",
        "s3_region": "ap-guangzhou",
        "s3_addressing": "virtual",
        "s3_prefix": "in",
        "url_ttl_s": 900,  # TOML gives an int
    }
    settings = read_hosting_settings({}, section)
    assert (settings.mode, settings.s3_bucket, settings.s3_region) == ("s3", "studio-inputs", "ap-guangzhou")
    assert (settings.s3_endpoint_url, settings.s3_addressing) == (
        "https://cos.ap-guangzhou.myqcloud.com",
        "virtual",
    )
    assert (settings.s3_prefix, settings.url_ttl_s) == ("in/", 900)
    assert set(settings.sources.values()) == {"secrets"}

    folder = read_hosting_settings(
        {}, {"publish_dir": str(tmp_path / "pub"), "public_base_url": "http://example.com/x"}
    )
    assert (folder.mode, folder.publish_dir, folder.public_base_url) == (
        "folder",
        tmp_path / "pub",
        "http://example.com/x",
    )


def test_environment_wins_over_the_secrets_section() -> None:
    env = {"STUDIO_S3_BUCKET": "from-env", "STUDIO_URL_TTL_S": "120", "STUDIO_S3_REGION": "  "}
    section = {"s3_bucket": "from-secrets", "url_ttl_s": 600, "s3_region": "eu-west-1"}
    settings = read_hosting_settings(env, section)
    assert (settings.s3_bucket, settings.url_ttl_s) == ("from-env", 120)
    # A blank variable does not hide the file's value.
    assert settings.s3_region == "eu-west-1"
    assert settings.sources == {"s3_bucket": "env", "url_ttl_s": "env", "s3_region": "secrets"}


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (None, None),  # AWS itself: boto3 decides
        ("http://127.0.0.1:9000", "path"),
        ("https://localhost:9000", "path"),
        ("https://[::1]:9000", "path"),
        ("http://minio.lan:9000", "path"),
        ("https://s3.oss-cn-hangzhou.aliyuncs.com", "virtual"),
        ("https://cos.ap-guangzhou.myqcloud.com", "virtual"),
        ("https://acct.r2.cloudflarestorage.com", "virtual"),
    ],
)
def test_addressing_default_follows_the_endpoint(endpoint: str | None, expected: str | None) -> None:
    env = {"STUDIO_S3_BUCKET": "studio-inputs"}
    if endpoint:
        env["STUDIO_S3_ENDPOINT_URL"] = endpoint
    assert read_hosting_settings(env, {}).s3_addressing == expected


def test_explicit_addressing_wins_over_the_default() -> None:
    env = {"STUDIO_S3_BUCKET": "b-inputs", "STUDIO_S3_ENDPOINT_URL": "http://127.0.0.1:1"}
    assert read_hosting_settings({**env, "STUDIO_S3_ADDRESSING": "virtual"}, {}).s3_addressing == "virtual"


@pytest.mark.parametrize(("ttl", "ok"), [("60", True), ("604800", True), ("59", False), ("604801", False)])
def test_ttl_limits_are_inclusive(ttl: str, ok: bool) -> None:
    env = {"STUDIO_S3_BUCKET": "studio-inputs", "STUDIO_URL_TTL_S": ttl}
    if ok:
        assert read_hosting_settings(env, {}).url_ttl_s == int(ttl)
    else:
        with pytest.raises(SettingsError, match=r"between 60 \(1 minute\) and 604800 seconds"):
            read_hosting_settings(env, {})


BUCKET = {"STUDIO_S3_BUCKET": "studio-inputs"}
FOLDER = {"STUDIO_PUBLISH_DIR": "/srv/pub", "STUDIO_PUBLIC_BASE_URL": "https://example.com/pub"}


@pytest.mark.parametrize(
    ("env", "section", "message"),
    [
        ({**BUCKET, **FOLDER}, {}, r"Both S3 hosting \(STUDIO_S3_BUCKET\) and folder hosting .*choose one"),
        (BUCKET, {"public_base_url": "https://e.com"}, r"public_base_url in \[hosting\].*choose one"),
        (
            {"STUDIO_PUBLISH_DIR": "/srv/pub"},
            {},
            r"STUDIO_PUBLISH_DIR is set but STUDIO_PUBLIC_BASE_URL is not; set the public http\(s\) URL",
        ),
        (
            {"STUDIO_PUBLIC_BASE_URL": "https://example.com/pub"},
            {},
            r"STUDIO_PUBLIC_BASE_URL is set but STUDIO_PUBLISH_DIR is not; set the folder",
        ),
        (
            {},
            {"publish_dir": "/srv/pub"},
            r"publish_dir in \[hosting\] of secrets.toml is set but STUDIO_PUBLIC_BASE_URL is not",
        ),
        (
            {**BUCKET, "STUDIO_S3_ADDRESSING": "sideways"},
            {},
            r"STUDIO_S3_ADDRESSING is 'sideways'; use 'virtual' .* or 'path'",
        ),
        (BUCKET, {"s3_addressing": "auto"}, r"s3_addressing in \[hosting\] of secrets.toml is 'auto'"),
        (
            {**BUCKET, "STUDIO_URL_TTL_S": "1h"},
            {},
            r"STUDIO_URL_TTL_S is '1h', not a whole number of seconds; set it to e.g. 3600",
        ),
        ({**BUCKET, "STUDIO_URL_TTL_S": "30"}, {}, r"STUDIO_URL_TTL_S is 30; use between 60"),
        (BUCKET, {"url_ttl_s": 700000}, r"url_ttl_s in \[hosting\] of secrets.toml is 700000; .*7 days"),
        (
            {**FOLDER, "STUDIO_PUBLIC_BASE_URL": "ftp://example.com/pub"},
            {},
            r"STUDIO_PUBLIC_BASE_URL is 'ftp://example.com/pub'; it must be an http\(s\) URL",
        ),
        (
            {**FOLDER, "STUDIO_PUBLIC_BASE_URL": "example.com/pub"},
            {},
            r"STUDIO_PUBLIC_BASE_URL is 'example.com/pub'; it must be an http\(s\) URL",
        ),
        (
            {**BUCKET, "STUDIO_S3_ENDPOINT_URL": "s3.oss-cn-hangzhou.aliyuncs.com"},
            {},
            r"STUDIO_S3_ENDPOINT_URL is .*; it must be an http\(s\) URL",
        ),
        (
            {"STUDIO_S3_BUCKET": "s3://studio-inputs"},
            {},
            r"STUDIO_S3_BUCKET is 's3://studio-inputs'; give the bucket name only",
        ),
        (
            {"STUDIO_S3_ENDPOINT_URL": "https://s3.oss-cn-hangzhou.aliyuncs.com"},
            {},
            r"STUDIO_S3_ENDPOINT_URL is set but STUDIO_S3_BUCKET is not; set the bucket name",
        ),
        ({}, {"s3_region": "cn-hangzhou"}, r"s3_region in \[hosting\].* is set but STUDIO_S3_BUCKET is not"),
        (
            {**BUCKET, "STUDIO_S3_PREFIX": "../escape"},
            {},
            r"STUDIO_S3_PREFIX is '../escape'; use plain ASCII",
        ),
        ({**BUCKET, "STUDIO_S3_PREFIX": "bilder/über"}, {}, r"STUDIO_S3_PREFIX is 'bilder/über'"),
    ],
)
def test_unusable_settings_say_what_to_fix(
    env: dict[str, str], section: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        read_hosting_settings(env, section)


def test_a_bad_url_in_an_error_is_shown_without_its_query() -> None:
    env = {**FOLDER, "STUDIO_PUBLIC_BASE_URL": "ftp://user:hunter2@example.com/pub?token=abc"}
    with pytest.raises(SettingsError) as caught:
        read_hosting_settings(env, {})
    assert "hunter2" not in str(caught.value) and "token" not in str(caught.value)


def test_describe_is_short_and_safe(tmp_path: Path) -> None:
    s3 = read_hosting_settings(
        {
            "STUDIO_S3_BUCKET": "studio-inputs",
            "STUDIO_S3_ENDPOINT_URL": "https://user:hunter2@s3.oss-cn-hongkong.aliyuncs.com?x=secretish",
            "STUDIO_S3_REGION": "cn-hongkong",
        },
        {},
    ).describe()
    assert "studio-inputs" in s3 and "cn-hongkong" in s3 and "virtual addressing" in s3
    assert "inputs/" in s3 and "1 h" in s3
    assert "hunter2" not in s3 and "secretish" not in s3
    aws = read_hosting_settings({"STUDIO_S3_BUCKET": "b-in", "STUDIO_URL_TTL_S": "86400"}, {}).describe()
    assert "on AWS" in aws and "1 d" in aws
    folder = read_hosting_settings(
        {"STUDIO_PUBLISH_DIR": str(tmp_path), "STUDIO_PUBLIC_BASE_URL": "https://example.com/in"}, {}
    ).describe()
    assert str(tmp_path) in folder and "https://example.com/in" in folder and "do not expire" in folder


# ---------------------------------------------------------------- S3 against moto on loopback


@pytest.fixture()
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_config(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)


def moto_settings(endpoint: str, bucket: str, ttl: int = 900) -> HostingSettings:
    return read_hosting_settings(
        {
            "STUDIO_S3_BUCKET": bucket,
            "STUDIO_S3_ENDPOINT_URL": endpoint,
            "STUDIO_S3_REGION": "us-east-1",
            "STUDIO_URL_TTL_S": str(ttl),
        },
        {},
    )


@pytest.fixture()
def s3_host(moto_endpoint: str, aws_env: None) -> S3Host:
    host = S3Host(moto_settings(moto_endpoint, f"inputs-{uuid.uuid4().hex[:12]}"), clock=lambda: FIXED_NOW)
    host.client.create_bucket(Bucket=host.bucket)
    return host


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_s3_publish_serves_the_same_bytes_until_removed(s3_host: S3Host, moto_endpoint: str) -> None:
    hosted = s3_host.publish(PNG, suffix=".PNG", content_type="image/png")

    assert KEY_SHAPE.match(hosted.handle), hosted.handle
    assert hosted.expires_at == FIXED_NOW + 900
    parts = urlsplit(hosted.url)
    assert f"{parts.scheme}://{parts.netloc}" == moto_endpoint
    assert parts.path == f"/{s3_host.bucket}/{hosted.handle}"  # path style on loopback
    signed = query(hosted.url)
    assert signed["X-Amz-Expires"] == "900"
    assert signed["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert (
        signed["X-Amz-Credential"].startswith(f"{FAKE_KEY_ID}/")
        and "/us-east-1/s3/" in signed["X-Amz-Credential"]
    )

    fetched = requests.get(hosted.url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched.headers["Content-Type"] == "image/png"

    s3_host.remove(hosted.handle)
    with pytest.raises(ClientError):
        s3_host.client.head_object(Bucket=s3_host.bucket, Key=hosted.handle)
    assert requests.get(hosted.url, timeout=10).status_code == 404
    s3_host.remove(hosted.handle)  # already gone: still fine


def test_s3_keys_are_random_and_follow_the_prefix(moto_endpoint: str, aws_env: None) -> None:
    settings = read_hosting_settings(
        {
            "STUDIO_S3_BUCKET": f"inputs-{uuid.uuid4().hex[:12]}",
            "STUDIO_S3_ENDPOINT_URL": moto_endpoint,
            "STUDIO_S3_REGION": "us-east-1",
            "STUDIO_S3_PREFIX": "studio/in",
        },
        {},
    )
    host = S3Host(settings, clock=lambda: FIXED_NOW)
    host.client.create_bucket(Bucket=host.bucket)
    first = host.publish(b"GIF89a", suffix="gif", content_type="image/gif")
    second = host.publish(b"GIF89a", suffix="gif", content_type="image/gif")
    assert first.handle != second.handle and first.url != second.url
    for hosted in (first, second):
        assert re.fullmatch(r"studio/in/2027-01-03/[0-9a-f]{32}\.gif", hosted.handle)
    assert query(first.url)["X-Amz-Expires"] == "3600"  # the default TTL


def test_s3_check_passes_for_an_existing_bucket(s3_host: S3Host) -> None:
    s3_host.check()


def test_s3_missing_bucket_is_reported_clearly(moto_endpoint: str, aws_env: None) -> None:
    host = S3Host(moto_settings(moto_endpoint, "no-such-bucket-here"))
    for action in (host.check, lambda: host.publish(PNG, suffix="png", content_type="image/png")):
        with pytest.raises(HostingError) as caught:
            action()
        message = str(caught.value)
        assert "bucket 'no-such-bucket-here' does not exist" in message
        assert "STUDIO_S3_BUCKET" in message and "us-east-1" in message
        assert FAKE_SECRET not in message


def test_s3_without_credentials_says_what_to_set(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_aws_config(monkeypatch, tmp_path)
    host = S3Host(moto_settings(moto_endpoint, "inputs-nocreds"))
    for action in (host.check, lambda: host.publish(PNG, suffix="png", content_type="image/png")):
        with pytest.raises(HostingError, match="no S3 credentials were found; set AWS_ACCESS_KEY_ID and"):
            action()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_s3_unreachable_endpoint_is_reported_clearly(aws_env: None) -> None:
    import boto3

    settings = moto_settings(f"http://127.0.0.1:{_closed_port()}", "inputs-unreachable")
    # Our config with one attempt only, so the test does not sit through the retry backoff.
    config = s3_config(settings).merge(Config(retries={"max_attempts": 1, "mode": "standard"}))
    client = boto3.session.Session().client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1", config=config
    )
    host = S3Host(settings, client=client)
    with pytest.raises(HostingError) as caught:
        host.publish(PNG, suffix="png", content_type="image/png")
    message = str(caught.value)
    assert "Could not upload the input" in message and "is unreachable" in message
    assert "STUDIO_S3_ENDPOINT_URL" in message and FAKE_SECRET not in message


def test_s3_remove_refuses_keys_it_did_not_publish(s3_host: S3Host) -> None:
    s3_host.client.put_object(Bucket=s3_host.bucket, Key="keep/me.png", Body=b"x")
    for handle in ("keep/me.png", "inputs/2027-01-03/../../keep/me.png", ""):
        with pytest.raises(HostingError, match="is not an input this app published"):
            s3_host.remove(handle)
    assert s3_host.client.get_object(Bucket=s3_host.bucket, Key="keep/me.png")["Body"].read() == b"x"


def test_s3_client_config_is_safe_for_oss_and_cos(s3_host: S3Host) -> None:
    config = s3_host.client.meta.config
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.signature_version == "s3v4"
    assert config.s3 == {"addressing_style": "path"}
    # botocore reads max_attempts=3 as three retries: four attempts in all.
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert (config.connect_timeout, config.read_timeout) == (10, 60)


@pytest.mark.parametrize(
    ("endpoint", "region", "bucket", "host_name"),
    [
        (
            "https://s3.oss-cn-hangzhou.aliyuncs.com",
            "cn-hangzhou",
            "studio-inputs",
            "studio-inputs.s3.oss-cn-hangzhou.aliyuncs.com",
        ),
        (
            "https://cos.ap-guangzhou.myqcloud.com",
            "ap-guangzhou",
            "inputs-1250000000",
            "inputs-1250000000.cos.ap-guangzhou.myqcloud.com",
        ),
    ],
)
def test_virtual_addressing_signs_sigv4_urls_on_the_bucket_host(
    aws_env: None, endpoint: str, region: str, bucket: str, host_name: str
) -> None:
    settings = read_hosting_settings(
        {"STUDIO_S3_BUCKET": bucket, "STUDIO_S3_ENDPOINT_URL": endpoint, "STUDIO_S3_REGION": region}, {}
    )
    assert settings.s3_addressing == "virtual"
    host = S3Host(settings, clock=lambda: FIXED_NOW)
    # Stands in for the upload (these hosts are not reachable offline); presigning is pure computation.
    with Stubber(host.client) as stub:
        stub.add_response(
            "put_object",
            {},
            {"Bucket": bucket, "Key": StubAny(KEY_SHAPE), "Body": PNG, "ContentType": "image/png"},
        )
        hosted = host.publish(PNG, suffix="png", content_type="image/png")
        stub.assert_no_pending_responses()

    parts = urlsplit(hosted.url)
    assert (parts.scheme, parts.hostname, parts.path) == ("https", host_name, f"/{hosted.handle}")
    signed = query(hosted.url)
    assert signed["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert f"/{region}/s3/aws4_request" in signed["X-Amz-Credential"]
    assert signed["X-Amz-Expires"] == "3600" and signed["X-Amz-SignedHeaders"] == "host"
    assert "AWSAccessKeyId" not in signed and "Signature" not in signed  # not legacy SigV2


class StubAny:
    """Matches any string of a given shape in Stubber's expected parameters."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(self.pattern.match(other))

    def __repr__(self) -> str:
        return f"StubAny({self.pattern.pattern})"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (
            "AccessDenied",
            403,
            "access to the bucket 'studio-inputs' was denied (AccessDenied); the key needs",
        ),
        ("InvalidAccessKeyId", 403, "rejected the access key (InvalidAccessKeyId); set AWS_ACCESS_KEY_ID"),
        ("SignatureDoesNotMatch", 403, "rejected the access key (SignatureDoesNotMatch)"),
        ("PermanentRedirect", 301, "another region or endpoint (PermanentRedirect); set STUDIO_S3_REGION"),
        ("PublicEndpointForbidden", 400, "outside the mainland such as cn-hongkong"),
        ("SecondLevelDomainForbidden", 403, "set STUDIO_S3_ADDRESSING=virtual"),
        ("SlowDown", 503, "the store answered SlowDown (HTTP 503)"),
    ],
)
def test_s3_store_errors_say_what_to_do_and_leak_nothing(
    aws_env: None, code: str, status: int, expected: str
) -> None:
    settings = read_hosting_settings(
        {
            "STUDIO_S3_BUCKET": "studio-inputs",
            "STUDIO_S3_ENDPOINT_URL": "https://s3.oss-cn-hangzhou.aliyuncs.com",
        },
        {},
    )
    host = S3Host(settings)
    leaked = host.client.generate_presigned_url("get_object", Params={"Bucket": "studio-inputs", "Key": "k"})
    signature = query(leaked)["X-Amz-Signature"]
    with Stubber(host.client) as stub:
        # A hostile or chatty store echoing a signed URL and key material in its message.
        stub.add_client_error(
            "head_bucket",
            service_error_code=code,
            service_message=f"see {leaked} X-Amz-Credential={FAKE_KEY_ID} Signature={FAKE_SECRET}",
            http_status_code=status,
        )
        with pytest.raises(HostingError) as caught:
            host.check()
    message = str(caught.value)
    assert message.startswith("Could not reach the bucket: ") and expected in message
    assert signature not in message and FAKE_SECRET not in message and FAKE_KEY_ID not in message


def test_s3_delete_of_a_missing_key_is_not_an_error_even_if_the_store_says_so(aws_env: None) -> None:
    host = S3Host(read_hosting_settings({"STUDIO_S3_BUCKET": "studio-inputs"}, {}))
    key = f"inputs/2027-01-03/{uuid.uuid4().hex}.png"
    with Stubber(host.client) as stub:
        stub.add_client_error("delete_object", service_error_code="NoSuchKey", http_status_code=404)
        host.remove(key)
        stub.add_client_error("delete_object", service_error_code="NoSuchBucket", http_status_code=404)
        with pytest.raises(HostingError, match="bucket 'studio-inputs' does not exist"):
            host.remove(key)


# ---------------------------------------------------------------- secrets stay out of messages and reprs


def test_hosting_errors_scrub_signed_urls_and_keys() -> None:
    url = (
        "https://b.s3.oss-cn-hangzhou.aliyuncs.com/inputs/x.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={FAKE_KEY_ID}%2F20270103%2Fcn-hangzhou%2Fs3%2Faws4_request"
        "&X-Amz-Signature=0123abcd"
    )
    message = str(HostingError(f"fetch of {url} failed; X-Amz-Signature=feedbeef X-Amz-Credential=AKIA/x"))
    assert "0123abcd" not in message and "feedbeef" not in message
    assert FAKE_KEY_ID not in message and "AKIA/x" not in message
    assert "https://b.s3.oss-cn-hangzhou.aliyuncs.com/inputs/x.png" in message
    assert scrub("AWSAccessKeyId=AKIA1&Signature=abc") == "AWSAccessKeyId=***&Signature=***"


def test_safe_url_drops_the_query_and_any_password() -> None:
    assert safe_url("https://b.example.com/inputs/a.png?X-Amz-Signature=abc#frag") == (
        "https://b.example.com/inputs/a.png"
    )
    assert safe_url("https://user:pw@b.example.com/a.png?x=1") == "https://user:•••@b.example.com/a.png"


def test_a_hosted_file_does_not_show_its_signed_url(s3_host: S3Host) -> None:
    hosted = s3_host.publish(PNG, suffix="png", content_type="image/png")
    signature = query(hosted.url)["X-Amz-Signature"]
    assert signature not in repr(hosted) and signature not in str(hosted)
    assert hosted.handle in repr(hosted)


# ---------------------------------------------------------------- a published folder on a loopback web server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it so
        pass


@pytest.fixture()
def web_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    # A short poll interval keeps shutdown quick.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture()
def folder_host(web_root: tuple[Path, str]) -> FolderHost:
    root, base = web_root
    settings = read_hosting_settings(
        # The folder does not exist yet (publish creates it); the trailing slash must not double up.
        {"STUDIO_PUBLISH_DIR": str(root / "inputs"), "STUDIO_PUBLIC_BASE_URL": f"{base}/inputs/"},
        {},
    )
    host = build_host(settings)
    assert isinstance(host, FolderHost)
    return host


def test_folder_publish_serves_the_same_bytes_until_removed(folder_host: FolderHost) -> None:
    hosted = folder_host.publish(PNG, suffix="png", content_type="image/png")
    assert hosted.expires_at is None
    assert re.fullmatch(r"[0-9a-f]{32}\.png", hosted.handle)
    assert hosted.url.endswith(f"/inputs/{hosted.handle}") and "//inputs" not in hosted.url

    fetched = requests.get(hosted.url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["Content-Type"] == "image/png"
    path = folder_host.directory / hosted.handle
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in folder_host.directory.iterdir()) == [hosted.handle]  # no temp files left

    folder_host.remove(hosted.handle)
    assert requests.get(hosted.url, timeout=10).status_code == 404
    folder_host.remove(hosted.handle)  # already gone: still fine


def test_folder_names_are_unguessable(folder_host: FolderHost) -> None:
    first = folder_host.publish(b"a", suffix=".JPG", content_type="image/jpeg")
    second = folder_host.publish(b"a", suffix="jpg", content_type="image/jpeg")
    assert first.handle != second.handle
    for hosted in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}\.jpg", hosted.handle)


def test_folder_remove_stays_inside_the_folder(folder_host: FolderHost, tmp_path: Path) -> None:
    outside = tmp_path / "www" / "keep.png"
    outside.write_bytes(b"x")
    for handle in ("../keep.png", "keep.png", "/etc/passwd", ""):
        with pytest.raises(HostingError, match="is not an input this app published"):
            folder_host.remove(handle)
    assert outside.read_bytes() == b"x"


def test_folder_check_leaves_nothing_behind(folder_host: FolderHost) -> None:
    folder_host.check()
    assert list(folder_host.directory.iterdir()) == []


def test_folder_that_cannot_be_created_is_reported_clearly(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = read_hosting_settings(
        {"STUDIO_PUBLISH_DIR": str(blocker / "inputs"), "STUDIO_PUBLIC_BASE_URL": "https://example.com/in"},
        {},
    )
    host = FolderHost(settings)
    for action in (host.check, lambda: host.publish(PNG, suffix="png", content_type="image/png")):
        with pytest.raises(
            HostingError, match=r"Could not .* in .*a-file/inputs: .*check STUDIO_PUBLISH_DIR"
        ):
            action()


# ---------------------------------------------------------------- the shared contract


def test_build_host_picks_the_configured_host(aws_env: None, tmp_path: Path) -> None:
    s3 = build_host(read_hosting_settings({"STUDIO_S3_BUCKET": "studio-inputs"}, {}))
    assert isinstance(s3, S3Host) and s3.label == "S3 bucket studio-inputs (AWS)"
    assert s3.settings.s3_prefix == DEFAULT_PREFIX
    folder = build_host(
        read_hosting_settings(
            {"STUDIO_PUBLISH_DIR": str(tmp_path), "STUDIO_PUBLIC_BASE_URL": "https://example.com"}, {}
        )
    )
    assert isinstance(folder, FolderHost) and str(tmp_path) in folder.label


@pytest.mark.parametrize(
    ("suffix", "content_type"), [("p/ng", "image/png"), ("", "image/png"), ("png", "png"), ("png", "")]
)
def test_publish_rejects_bad_suffixes_and_content_types(
    tmp_path: Path, suffix: str, content_type: str
) -> None:
    folder_host = FolderHost(
        HostingSettings(mode="folder", publish_dir=tmp_path / "pub", public_base_url="https://example.com")
    )
    with pytest.raises(ValueError):
        folder_host.publish(PNG, suffix=suffix, content_type=content_type)
    assert not folder_host.directory.exists() or list(folder_host.directory.iterdir()) == []


def test_hosts_refuse_settings_of_the_other_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="s3 mode"):
        S3Host(HostingSettings())
    with pytest.raises(ValueError, match="folder mode"):
        FolderHost(HostingSettings(mode="s3", s3_bucket="b-in"))


def test_hosted_file_is_a_value() -> None:
    assert HostedFile("https://x/a", "a", None) == HostedFile("https://x/a", "a", None)
