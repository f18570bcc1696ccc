"""Every vendor error has words in English and Chinese, and a stored job error finds its own.

The English lives in each adapter's one table (`error_texts`), the Chinese in
studio/locales/vendor_errors.zh.json. The documented code lists below are
copied from shared/providers.md (1.4, 2.5, 3.6, 4.4) and seed 003, so a code
dropped from a table fails here, not in front of a user.
"""

from __future__ import annotations

import re
import string

import pytest

from providers import REGISTRY, http
from providers.aidge import Aidge
from providers.aliyun_market import AliyunMarket
from providers.base import ProviderContext
from providers.dashscope import DashScope
from providers.errors import ConfigurationError, InputRejectedError, ProviderError
from providers.tencent_aiart import TencentAiart
from studio import vendor_texts
from studio.i18n import STRINGS, template_params, translate, translate_strict

DOCUMENTED: dict[str, tuple[str, ...]] = {
    "aidge": ("500", "501", "700", "801", "900", "1000", "1001", "1002"),
    "aliyun_market": (
        *(f"2350000{n}" for n in range(10)),
        "23500011",
        "23500012",
        "23500013",
        "23500014",
    ),
    "tencent_aiart": (
        "AuthFailure.UnauthorizedOperation", "FailedOperation.GenerateImageFailed",
        "FailedOperation.ImageDecodeFailed", "FailedOperation.ImageDownloadError",
        "FailedOperation.ImageResolutionExceed", "FailedOperation.ImageSizeExceed",
        "FailedOperation.InnerError", "FailedOperation.RequestEntityTooLarge",
        "FailedOperation.RequestTimeout", "FailedOperation.RpcFail", "FailedOperation.ServerError",
        "FailedOperation.Unknown", "InvalidParameter.InvalidParameter", "InvalidParameterValue.ImageEmpty",
        "InvalidParameterValue.ParameterValueError", "InvalidParameterValue.StyleConflict",
        "InvalidParameterValue.TextLengthExceed", "InvalidParameterValue.UrlIllegal",
        "OperationDenied.ImageIllegalDetected", "OperationDenied.TextIllegalDetected", "RequestLimitExceeded",
        "RequestLimitExceeded.JobNumExceed", "ResourceUnavailable.Delivering", "ResourceUnavailable.InArrears",
        "ResourceUnavailable.LowBalance", "ResourceUnavailable.NotExist", "ResourceUnavailable.StopUsing",
        "ResourcesSoldOut.ChargeStatusException", "FailedOperation.ConsoleServerError",
        "FailedOperation.JobNotExist", "InvalidParameterValue.LogoParamErr", "AuthFailure.SignatureFailure",
        "AuthFailure.SignatureExpire", "AuthFailure.SecretIdNotFound",
    ),
    "dashscope": (
        "InvalidApiKey", "AccessDenied", "AccessDenied.Unpurchased", "InvalidParameter", "Model.NotExist",
        "DataInspectionFailed", "Throttling", "Throttling.RateQuota", "Throttling.AllocationQuota",
        "InternalError", "ServiceUnavailable", "GatewayTimeout", "Arrearage", "InvalidParameter.DataInspection",
        "InvalidParameter.FileDownload", "BadRequest.UnsupportedFileFormat",
    ),
}  # fmt: skip

# The Marketplace gateway's documented X-Ca-Error-Message texts (providers.md 2.5) with their statuses.
MARKET_GATEWAY = (
    (400, "Invalid AppCode `not exists`"),
    (400, "Invalid Url"),
    (400, "Invalid Param Location"),
    (403, "Unauthorized"),
    (403, "Quota Exhausted"),
    (403, "Api Market Subscription quota exhausted"),
    (403, "Throttled by USER Flow Control"),
    (403, "Throttled by APP Flow Control"),
    (403, "Throttled by API Flow Control"),
    (403, "Quota Expired"),
    (403, "User Arrears"),
    (400, "Timestamp Expired"),
)

GROUPS = sorted(vendor_texts.english_texts())
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _entries() -> list[tuple[str, str]]:
    return [(group, entry) for group in GROUPS for entry in vendor_texts.english_texts()[group]]


SAMPLES = {"code": "Some.Code", "status": "503", "said": " (the vendor's words)", "kind": "SSLError"}


def _sample(template: str) -> dict[str, str]:
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return {name: SAMPLES.get(name, f"the vendor's words for {name} (x)") for name in names}


# ------------------------------------------------------------------ the tables are complete
def test_every_adapter_that_calls_a_vendor_has_a_table() -> None:
    # The local engine calls no vendor, but its own refusals are words for people too.
    assert {key for key, adapter in REGISTRY.items() if adapter.error_texts} == {*DOCUMENTED, "local"}
    assert vendor_texts.TRANSPORT in GROUPS


@pytest.mark.parametrize("provider", sorted(DOCUMENTED))
def test_every_documented_code_is_in_its_adapters_table(provider: str) -> None:
    table = REGISTRY[provider].error_texts
    assert [code for code in DOCUMENTED[provider] if code not in table] == []


@pytest.mark.parametrize(("group", "entry"), _entries())
def test_every_entry_has_english_and_chinese_with_the_same_fields(group: str, entry: str) -> None:
    english = vendor_texts.english_texts()[group][entry]
    chinese = vendor_texts.locale_texts("zh").get(group, {}).get(entry)
    assert chinese, f"no Chinese for {group}:{entry}"
    assert template_params(chinese) == template_params(english)
    assert _HAN.search(chinese), f"{group}:{entry} is not translated"
    key = f"vendor.{group}.{entry}"
    assert STRINGS["en"][key] == english and STRINGS["zh"][key] == chinese


def test_the_chinese_file_has_no_entry_that_no_table_has() -> None:
    english = vendor_texts.english_texts()
    stale = [
        f"{group}:{entry}"
        for group, entries in vendor_texts.locale_texts("zh").items()
        for entry in entries
        if entry not in english.get(group, {})
    ]
    assert stale == []


# ------------------------------------------------------------------ a stored text finds its entry
@pytest.mark.parametrize(("group", "entry"), _entries())
def test_every_english_text_leads_back_to_its_chinese(group: str, entry: str) -> None:
    english = vendor_texts.english_texts()[group][entry]
    params = _sample(english)
    provider = group if group != vendor_texts.TRANSPORT else "aidge"
    found = vendor_texts.match(provider, vendor_texts.code_of(entry) or "some_code", english.format(**params))
    assert found is not None
    assert found.params == params
    # Entries with the same English (two codes, one meaning) may stand in for each other.
    expected = translate_strict("zh", f"vendor.{group}.{entry}", **params)
    assert translate_strict("zh", found.key, **found.params) == expected


def test_a_text_no_template_made_is_not_matched() -> None:
    assert vendor_texts.match("dashscope", "InvalidParameter", "Something else entirely.") is None
    assert vendor_texts.match("unknown_vendor", "x", "Nothing.") is None


def test_gave_up_after_attempts_is_kept_and_translated() -> None:
    message = DashScope.error_texts["InternalError"] + " (gave up after 5 attempts)"
    found = vendor_texts.match("dashscope", "InternalError", message)
    assert found is not None and found.key == "vendor.dashscope.InternalError" and found.attempts == 5
    text = translate("zh", "error.gave_up", message=translate("zh", found.key), attempts=found.attempts)
    assert "DashScope 内部出错" in text and "5" in text


# ------------------------------------------------------------------ one code, several meanings
def _dashscope() -> DashScope:
    return DashScope(ProviderContext(credentials={"api_key": "sk-test"}))


def test_model_not_exist_is_told_apart_from_other_invalid_parameters() -> None:
    adapter = _dashscope()
    model = adapter._error("InvalidParameter", "Model not exist.", "r1", 400)
    other = adapter._error("InvalidParameter", "n must be between 1 and 4", "r2", 400)
    # Both keep DashScope's code; what they mean and what to do differ.
    assert model.code == other.code == "InvalidParameter"
    assert type(model) is ConfigurationError and not model.retryable
    assert (
        "wanx-background-generation-v2" in model.user_message and "DASHSCOPE_BASE_URL" in model.user_message
    )
    assert type(other) is InputRejectedError and "n must be between 1 and 4" in other.user_message
    found_model = vendor_texts.match("dashscope", model.code, model.user_message)
    found_other = vendor_texts.match("dashscope", other.code, other.user_message)
    assert found_model is not None and found_model.key == "vendor.dashscope.InvalidParameter#model_not_exist"
    assert found_other is not None and found_other.key == "vendor.dashscope.InvalidParameter"
    assert found_model.params == {"detail": "Model not exist."}
    assert translate("zh", found_model.key, **found_model.params) != translate(
        "zh", found_other.key, **found_other.params
    )
    # A task that fails with it says the same.
    assert (
        adapter._failure_message("InvalidParameter", "Model not exist.", canceled=False) == model.user_message
    )


def test_the_synchronous_call_refusal_is_told_apart_from_other_access_denials() -> None:
    adapter = _dashscope()
    sync = adapter._error("AccessDenied", "current user api does not support synchronous calls", None, 403)
    other = adapter._error("AccessDenied", "Access denied.", None, 403)
    assert type(sync) is ConfigurationError and "X-DashScope-Async" in sync.user_message
    assert "X-DashScope-Async" not in other.user_message
    found = vendor_texts.match("dashscope", "AccessDenied", sync.user_message)
    assert found is not None and found.key == "vendor.dashscope.AccessDenied#sync_refused"


def test_an_aidge_quota_message_is_told_apart_from_other_access_denials() -> None:
    adapter = Aidge(ProviderContext(credentials={"access_key_name": "k", "access_key_secret": "s"}))
    quota = adapter._gateway_error("AccessDenied", "Sorry, your calling resources have been exhausted.", None)
    denied = adapter._gateway_error("AccessDenied", "Permission denied for this API.", None)
    assert quota.code == denied.code == "AccessDenied" and quota.user_message != denied.user_message
    found_quota = vendor_texts.match("aidge", "AccessDenied", quota.user_message)
    found_denied = vendor_texts.match("aidge", "AccessDenied", denied.user_message)
    assert found_quota is not None and found_quota.key == "vendor.aidge._quota"
    assert found_denied is not None and found_denied.key == "vendor.aidge.AccessDenied"


@pytest.mark.parametrize(("status", "message"), MARKET_GATEWAY)
def test_every_documented_marketplace_gateway_message_has_both_languages(status: int, message: str) -> None:
    adapter = AliyunMarket(ProviderContext(credentials={"appcode": "appcode-0123456789"}))
    error: ProviderError = adapter._gateway_error(
        message, "", status, "req", idempotent=True, retry_after=None
    )
    found = vendor_texts.match("aliyun_market", error.code, error.user_message)
    assert found is not None and found.key.startswith("vendor.aliyun_market.gateway:"), error.user_message
    assert _HAN.search(translate("zh", found.key, **found.params))


def test_tencent_family_and_transport_texts_carry_the_code() -> None:
    adapter = TencentAiart(ProviderContext(credentials={"secret_id": "id", "secret_key": "key"}))
    error = adapter._mapped("FailedOperation.SomethingNew", "odd", None)
    found = vendor_texts.match("tencent_aiart", error.code, error.user_message)
    assert found is not None and found.key == "vendor.tencent_aiart._family"
    assert found.params == {"code": "FailedOperation.SomethingNew", "detail": "odd"}
    assert "FailedOperation.SomethingNew" in translate("zh", found.key, **found.params)


def test_transport_messages_are_found_for_any_vendor() -> None:
    found = vendor_texts.match("aliyun_market", "read_timeout", http.ERROR_TEXTS["_ambiguous"])
    assert found is not None and found.key == "vendor.http._ambiguous"
