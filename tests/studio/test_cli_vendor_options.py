"""`python -m studio generate` with the vendor options of issue 11: Tencent's own logo (`--logo` with
`--param LogoRect=...`) and its AI mark (`LogoAdd`, on by default), DashScope's prompt budget (a
warning on stderr, not a refusal). Real subprocesses against the loopback emulators, as in
test_cli_vendors.py (whose fixture and helpers these tests share)."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tests.studio.test_cli_vendors import (  # noqa: F401 - `vendors` is a fixture
    Vendors,
    _generate,
    _succeeded,
    _tc_fields,
    vendors,
)


def _logo(v: Vendors) -> str:
    image = Image.new("RGBA", (120, 48), (0, 0, 0, 0))
    image.paste((230, 20, 20, 255), (10, 5, 110, 43))
    image.save(v.workdir / "logo.png")
    return "logo.png"


def test_tencent_takes_the_users_logo_file_in_its_box(vendors: Vendors) -> None:  # noqa: F811
    v = vendors
    env = {**v.tencent_env, **v.hosting_env}
    done = _generate(v, "tencent_aiart", env, "--logo", _logo(v), "--param", "LogoRect=10,20,240,96")
    _succeeded(done)
    fields = _tc_fields(v)
    assert fields["LogoAdd"] == 1
    assert fields["LogoParam"]["LogoRect"] == {"X": 10, "Y": 20, "Width": 240, "Height": 96}
    sent = Image.open(io.BytesIO(base64.b64decode(fields["LogoParam"]["LogoImage"])))
    assert sent.size == (120, 48) and sent.mode == "RGBA"
    assert "no 'AI generated' mark" not in done.stderr
    assert list(v.publish_dir.iterdir()) == []  # only the photo was published, and it is gone


def test_switching_the_ai_mark_off_says_who_labels_the_images(vendors: Vendors) -> None:  # noqa: F811
    v = vendors
    done = _generate(v, "tencent_aiart", {**v.tencent_env, **v.hosting_env}, "--param", "LogoAdd=0")
    _succeeded(done)
    assert _tc_fields(v)["LogoAdd"] == 0 and "LogoParam" not in _tc_fields(v)
    assert "no 'AI generated' mark" in done.stderr and "your responsibility" in done.stderr


def test_a_logo_box_outside_the_picture_exits_2_before_any_call(vendors: Vendors) -> None:  # noqa: F811
    v = vendors
    env = {**v.tencent_env, **v.hosting_env}
    args = ("--logo", _logo(v), "--param", "Resolution=1024:768", "--param", "LogoRect=900,700,200,100")
    done = _generate(v, "tencent_aiart", env, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "LogoRect" in done.stderr and "1024x768" in done.stderr
    assert v.tencent.requests == [] and done.stdout == ""


def test_a_logo_for_a_vendor_that_takes_none_exits_2(vendors: Vendors) -> None:  # noqa: F811
    v = vendors
    done = _generate(v, "dashscope", v.dashscope_env, "--logo", _logo(v))
    assert done.returncode == 2 and "--logo: dashscope takes no logo" in done.stderr
    assert v.dashscope.requests == []


def test_a_prompt_longer_than_dashscope_reads_is_warned_about_and_still_sent(vendors: Vendors) -> None:  # noqa: F811
    v = vendors
    long = " ".join(["sunlit"] * 160)
    done = _generate(v, "dashscope", v.dashscope_env, "--negative-prompt", long)
    result = _succeeded(done)
    assert result["status"] == "succeeded"
    assert "studio: warning: the negative prompt has 160 words" in done.stderr
    assert "first 150 English words" in done.stderr
    assert v.dashscope.calls("submit")[-1].body["input"]["neg_ref_prompt"] == long
