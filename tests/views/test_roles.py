"""Who sees what: sign-in, roles and the pages and buttons each role gets (AppTest).

AppTest sets `st.user` itself (`at.user`), so these runs take the very path a signed-in
browser takes; tests/e2e/test_signin_browser.py covers the real OpenID Connect round trip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from studio.people import LOCAL_PERSON
from studio.service import Studio
from tests.views.conftest import APP, RUN_TIMEOUT_S, texts
from tests.views.photos import product_photo

SECRETS = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "a-test-cookie-secret-long-enough"
client_id = "studio"
client_secret = "not-a-real-secret"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"

[access]
admins = ["ana@shop.example"]
members = ["@shop.example"]
viewers = ["vic@agency.example"]
"""

ADMIN = {"is_logged_in": True, "email": "ana@shop.example", "name": "Ana Admin"}
MEMBER = {"is_logged_in": True, "email": "max@shop.example", "name": "Max Member"}
VIEWER = {"is_logged_in": True, "email": "vic@agency.example", "name": "Vic Viewer"}
STRANGER = {"is_logged_in": True, "email": "eve@elsewhere.example", "name": "Eve"}


@pytest.fixture
def signin(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(SECRETS, encoding="utf-8")
    monkeypatch.setenv("STUDIO_SECRETS_FILE", str(secrets))
    for name in ("STUDIO_ADMINS", "STUDIO_MEMBERS", "STUDIO_VIEWERS", "STUDIO_OPEN_TO_NETWORK"):
        monkeypatch.delenv(name, raising=False)
    return secrets


def run_as(user: dict[str, object] | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
    at.query_params["lang"] = "en"
    if user is not None:
        at.user = user
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def buttons(at: AppTest) -> dict[str, bool]:
    """Button label -> disabled."""
    return {str(button.label): bool(button.disabled) for button in at.button}


def test_without_sign_in_everyone_is_the_local_admin_on_this_computer_only(data_dir: Path) -> None:
    at = run_as(None)
    assert not at.exception
    assert "Prompt background" in [str(title.value) for title in at.title]
    sidebar = "\n".join(str(caption.value) for caption in at.sidebar.caption)
    assert "Only this computer can open the studio (127.0.0.1)" in sidebar
    assert LOCAL_PERSON.can("change_settings")


def test_a_visitor_who_has_not_signed_in_sees_the_sign_in_screen_and_nothing_else(signin: Path) -> None:
    at = run_as({"is_logged_in": False})
    assert not at.exception
    assert [str(title.value) for title in at.title] == ["Sign in to Backdrop Studio"]
    assert list(buttons(at)) == ["Sign in"]
    assert "Prompt background" not in texts(at)
    assert len(at.sidebar.selectbox) == 0  # no sidebar, no navigation


def test_the_sign_in_screen_speaks_chinese_too(signin: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
    at.query_params["lang"] = "zh"
    at.user = {"is_logged_in": False}
    at.run()
    assert [str(title.value) for title in at.title] == ["登录 Backdrop Studio"]
    assert list(buttons(at)) == ["登录"]


def test_an_email_no_rule_lets_in_is_told_to_ask_an_admin_and_can_sign_out(signin: Path) -> None:
    at = run_as(STRANGER)
    assert not at.exception
    message = at.error[0].value.replace("\u2060", "")
    assert "eve@elsewhere.example" in message and "Ask an admin" in message
    assert list(buttons(at)) == ["Sign out"]
    assert "Prompt background" not in texts(at)


def test_an_unverified_address_is_not_let_in(signin: Path) -> None:
    at = run_as({**ADMIN, "email_verified": False})
    assert [str(title.value) for title in at.title] == ["Not allowed yet"]


def test_admin_sees_every_page_and_who_is_signed_in(signin: Path) -> None:
    at = run_as(ADMIN)
    assert not at.exception
    sidebar = "\n".join(str(block.value) for block in at.sidebar.markdown)
    assert "Ana Admin" in sidebar
    assert "Role: admin" in "\n".join(str(caption.value) for caption in at.sidebar.caption)
    assert "Sign out" in [str(button.label) for button in at.sidebar.button]
    assert buttons(at).get("Generate") is not None
    settings = run_as(ADMIN, "views/settings.py")
    assert "Settings" in [str(title.value) for title in settings.title]


def test_member_creates_but_has_no_settings(signin: Path) -> None:
    at = run_as(MEMBER)
    assert not at.exception
    assert "Prompt background" in [str(title.value) for title in at.title]
    assert "Role: member" in "\n".join(str(caption.value) for caption in at.sidebar.caption)
    assert "Generate" in buttons(at)
    # Settings is not a page of this navigation at all.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/settings.py")
    batches = run_as(MEMBER, "views/batches.py")
    assert not batches.exception
    assert "Batches" in [str(title.value) for title in batches.title]
    model = run_as(MEMBER, "views/virtual_model.py")
    assert not model.exception  # no link to Settings, which a member cannot open


def test_viewer_reviews_only(signin: Path) -> None:
    at = run_as(VIEWER)
    assert not at.exception
    titles = [str(title.value) for title in at.title]
    assert titles == ["Review"], titles
    assert "Generate" not in buttons(at)
    assert "Role: viewer" in "\n".join(str(caption.value) for caption in at.sidebar.caption)
    for page in ("views/prompt_background.py", "views/settings.py", "views/batches.py", "views/history.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_open_to_network_without_sign_in_is_a_warning_in_the_sidebar(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OPEN_TO_NETWORK", "true")
    at = run_as(None)
    warnings = "\n".join(str(box.value) for box in at.sidebar.warning)
    assert "without sign-in" in warnings


def test_the_app_refuses_to_serve_on_every_interface_without_sign_in(data_dir: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
    at.query_params["lang"] = "en"
    previous = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at.run()
    finally:
        config.set_option("server.address", previous)
    assert "will not serve" in at.error[0].value
    assert "Prompt background" not in texts(at)


def _generate_script() -> None:
    import streamlit as st

    from ui.layout import generate_button

    st.session_state["acted"] = generate_button("roles", None)


def test_the_generate_button_checks_the_role_on_the_server_not_only_in_the_browser(signin: Path) -> None:
    for user, may in ((MEMBER, True), (VIEWER, False)):
        at = AppTest.from_function(_generate_script, default_timeout=RUN_TIMEOUT_S)
        at.user = user
        at.run()
        button = at.button(key="roles.generate")
        assert button.disabled is (not may)
        # A forged click (a hand-made websocket message: the browser never sends one for a
        # disabled button, and AppTest refuses to, so lift the flag first) still does nothing.
        button.proto.disabled = False
        button.click().run()
        assert at.session_state["acted"] is may


def test_viewer_reviews_a_batch_but_cannot_export_it(signin: Path, studio: Studio) -> None:
    from tests.views.test_batch_pages import Upload, _defaults, wait_done
    from ui import batch_inputs

    plan = batch_inputs.plan_from_uploads(
        studio, "images", [Upload("mug.png", product_photo((320, 260)))], _defaults(studio)
    )
    batch_id = studio.batches.start(plan.items, name="team mugs", by="ana@shop.example", shared=True)
    wait_done(studio, batch_id)

    member = run_as(MEMBER, "views/review.py")
    assert any(button.key == "review.export.build" for button in member.button)

    at = run_as(VIEWER)
    at.session_state["review.batch.en"] = batch_id
    at.run()
    assert not at.exception, at.exception
    keys = {str(button.key) for button in at.button}
    assert f"review.{batch_id}.unreviewed.approve" in keys
    assert "review.export.build" not in keys
    assert "Export" not in [str(header.value) for header in at.subheader]
    at.button(key=f"review.{batch_id}.unreviewed.approve").click().run()
    assert not at.exception, at.exception
    reviewed = [output.review for job in studio.batches.jobs(batch_id) for output in job.outputs]
    assert "approved" in [str(state) for state in reviewed]
