"""The pieces every vendor adapter shares (providers/common.py): keys never reach what users see."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from providers import REGISTRY
from providers.aidge import API_SCENE_SUBMIT
from providers.base import ProviderContext
from providers.common import (
    VendorAdapter,
    is_loopback_host,
    require_session,
    scrub_secrets,
    vendor_detail,
)
from providers.errors import ConfigurationError, ProviderError, UnexpectedResponseError
from tests.emulators.contract import ContractCase
from tests.providers.test_contract import _emulator_case

CLOUD = sorted(key for key in REGISTRY if key != "local")


def test_every_credential_value_is_blanked_in_any_case() -> None:
    credentials = {"name": "AKIDname1234", "secret": "s3cr3t-Value", "short": "ab", "empty": ""}
    text = "key akidNAME1234 and S3CR3T-value, ab and ok"
    assert scrub_secrets(text, credentials) == "key *** and ***, ab and ok"
    assert scrub_secrets(text, None) == text


def test_a_secret_containing_another_is_blanked_whole() -> None:
    assert scrub_secrets("x=abcd-efgh", {"a": "abcd", "b": "abcd-efgh"}) == "x=***"


def test_a_detail_is_one_line_scrubbed_before_it_is_cut() -> None:
    secret = "k" * 30
    text = "a\n  b " + "x" * 185 + secret
    detail = vendor_detail(text, {"api_key": secret})
    assert detail == ("a b " + "x" * 185 + "***")[:200]
    assert "kkkk" not in vendor_detail("y" * 190 + secret, {"api_key": secret})


def test_a_missing_session_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Acme was set up without an HTTP session"):
        require_session(ProviderContext(), "acme", "Acme")


def test_loopback_hosts() -> None:
    assert all(is_loopback_host(host) for host in ("localhost", "127.0.0.1", "[::1]", "::1", "LOCALHOST"))
    assert not any(is_loopback_host(host) for host in ("example.com", "10.0.0.1", ""))


@pytest.mark.parametrize("key", CLOUD)
def test_every_cloud_adapter_scrubs_and_refuses_the_same_way(key: str) -> None:
    cls = REGISTRY[key]
    assert issubclass(cls, VendorAdapter), f"{key} must build on providers.common.VendorAdapter"
    credentials = {name: f"{name}-SECRET-value-0123" for name in cls.required_credentials()}
    adapter = cls(ProviderContext(credentials=credentials))
    echoed = " | ".join(value.lower() for value in credentials.values())
    for shown in (adapter._scrub(echoed), adapter._detail(echoed)):
        assert not any(value.lower() in shown.lower() for value in credentials.values())
        assert shown.count("***") == len(credentials)
    with pytest.raises(UnexpectedResponseError) as caught:
        adapter._unexpected("it has no data")
    assert caught.value.code == "unexpected_response" and "it has no data" in caught.value.user_message
    assert cls.unexpected_text in cls.error_texts.values()


# How to make each vendor's emulator answer an error whose message echoes `text`.
ECHO: dict[str, Callable[[Any, str], None]] = {
    "aidge": lambda emulator, text: emulator.fail_next(API_SCENE_SUBMIT, 700, message=text),
    "aliyun_market": lambda emulator, text: emulator.fail_next("23500013", message=text),
    "dashscope": lambda emulator, text: emulator.fail_next("InvalidParameter", route="submit", message=text),
    "tencent_aiart": lambda emulator, text: emulator.fail_next("InvalidParameterValue.NewRule", text),
}


@pytest.mark.parametrize("key", CLOUD)
def test_a_vendor_echoing_the_credentials_never_shows_them(key: str) -> None:
    assert key in ECHO, f"add how {key}'s emulator echoes a message to ECHO"
    with contextlib.ExitStack() as stack:
        case: ContractCase = stack.enter_context(_emulator_case(key)())
        credentials = case.context.credentials
        ECHO[key](case.emulator, "you sent " + " and ".join(credentials.values()))
        with pytest.raises(ProviderError) as caught:
            REGISTRY[key](case.context).submit(case.requests[0])
    error = caught.value
    assert "you sent" in error.user_message, error
    for value in credentials.values():
        for shown in (str(error), error.user_message, repr(error.args)):
            assert value not in shown
