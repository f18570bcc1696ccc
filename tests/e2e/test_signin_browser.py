"""Sign-in end to end: the real app under `streamlit run` with `[auth]` pointing at a loopback
OpenID Connect provider (tests/emulators/oidc.py), driven by Chromium.

An admin, a member, a viewer and a stranger sign in through `st.login`'s real round trip
(discovery, authorize, code, RS256 id_token) and each sees what their role allows. Also: the
app started the plain way listens on 127.0.0.1 only, and the serve-address helper opens it
up only with sign-in or the explicit setting. Screenshots go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import ROOT, SHOTS, browser_page, free_port, running_app, wait_healthy, wait_idle
from tests.emulators.oidc import OidcProvider

pytestmark = pytest.mark.e2e

SECRETS = """
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "loopback-cookie-secret-0123456789"
client_id = "studio"
client_secret = "loopback-secret"
server_metadata_url = "{metadata_url}"

[access]
admins = ["ana@shop.example"]
members = ["@shop.example"]
viewers = ["vic@agency.example"]
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(client_id="studio", client_secret="loopback-secret") as running:
        yield running


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, provider: OidcProvider) -> Iterator[str]:
    secrets = SECRETS.format(metadata_url=provider.metadata_url)
    with running_app(tmp_path_factory, "signin", secrets=secrets) as app:
        yield app.url


def sign_in(page: Page, app_url: str, provider: OidcProvider, email: str, name: str) -> None:
    provider.sign_in_as(email, name)
    page.goto(f"{app_url}/?lang=en")
    expect(page.get_by_role("heading", name="Sign in to Backdrop Studio")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(name, exact=False).first).to_be_visible(timeout=60_000)
    wait_idle(page)


def nav_links(page: Page) -> list[str]:
    """The page titles in the sidebar navigation (the last line of each link; the icon comes first)."""
    texts = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    return [text.strip().splitlines()[-1].strip() for text in texts]


def test_a_visitor_sees_only_the_sign_in_screen_in_either_language(app_url: str) -> None:
    with browser_page(1280, 800) as page:
        page.goto(f"{app_url}/?lang=en")
        expect(page.get_by_role("heading", name="Sign in to Backdrop Studio")).to_be_visible(timeout=60_000)
        wait_idle(page)
        assert nav_links(page) == []
        expect(page.get_by_role("button", name="Generate")).to_have_count(0)
        page.screenshot(path=str(SHOTS / "signin_01_screen.png"))
        page.goto(f"{app_url}/?lang=zh")
        expect(page.get_by_role("heading", name="登录 Backdrop Studio")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="登录")).to_be_visible()
        wait_idle(page)
        page.screenshot(path=str(SHOTS / "signin_02_screen_zh.png"))


def test_admin_signs_in_and_has_every_page(app_url: str, provider: OidcProvider) -> None:
    with browser_page(1280, 900) as page:
        sign_in(page, app_url, provider, "ana@shop.example", "Ana Admin")
        expect(page.get_by_role("heading", name="Prompt background")).to_be_visible()
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_text("Role: admin")).to_be_visible()
        expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
        links = nav_links(page)
        assert "Settings" in links and "Batches" in links and "History" in links, links
        expect(page.get_by_role("button", name="Generate")).to_be_visible()
        page.screenshot(path=str(SHOTS / "signin_03_admin.png"))
        page.get_by_role("link", name="Settings", exact=True).click()
        expect(page.get_by_role("heading", name="Settings")).to_be_visible(timeout=30_000)


def test_member_creates_but_has_no_settings(app_url: str, provider: OidcProvider) -> None:
    with browser_page(1280, 900) as page:
        sign_in(page, app_url, provider, "max@shop.example", "Max Member")
        expect(page.get_by_role("heading", name="Prompt background")).to_be_visible()
        expect(page.locator('[data-testid="stSidebar"]').get_by_text("Role: member")).to_be_visible()
        links = nav_links(page)
        assert "Settings" not in links and "Batches" in links and "Review" in links, links
        expect(page.get_by_role("button", name="Generate")).to_be_visible()
        page.screenshot(path=str(SHOTS / "signin_04_member.png"))
        # A deep link to Settings does not open it for a member.
        page.goto(f"{app_url}/settings?lang=en")
        wait_idle(page)
        expect(page.get_by_role("heading", name="Settings")).to_have_count(0)


def test_viewer_reviews_only(app_url: str, provider: OidcProvider) -> None:
    with browser_page(1280, 900) as page:
        sign_in(page, app_url, provider, "vic@agency.example", "Vic Viewer")
        expect(page.get_by_role("heading", name="Review")).to_be_visible()
        expect(page.locator('[data-testid="stSidebar"]').get_by_text("Role: viewer")).to_be_visible()
        # One page only: Streamlit draws no navigation at all.
        assert nav_links(page) in ([], ["Review"]), nav_links(page)
        expect(page.get_by_role("button", name="Generate")).to_have_count(0)
        page.screenshot(path=str(SHOTS / "signin_05_viewer.png"))
        page.goto(f"{app_url}/prompt_background?lang=en")
        wait_idle(page)
        expect(page.get_by_role("button", name="Generate")).to_have_count(0)


def test_a_stranger_is_not_let_in_and_can_sign_out(app_url: str, provider: OidcProvider) -> None:
    with browser_page(1280, 800) as page:
        provider.sign_in_as("eve@elsewhere.example", "Eve Outsider")
        page.goto(f"{app_url}/?lang=en")
        expect(page.get_by_role("heading", name="Sign in to Backdrop Studio")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Not allowed yet")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Ask an admin")).to_be_visible()
        assert nav_links(page) == []
        wait_idle(page)
        page.screenshot(path=str(SHOTS / "signin_06_not_allowed.png"))
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to Backdrop Studio")).to_be_visible(timeout=60_000)


# ---------------------------------------------------------------- where the server listens
def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket LISTENing on `port`, from /proc/net/tcp and tcp6."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, _, hex_port = local.partition(":")
            if state != "0A" or int(hex_port, 16) != port or len(address) != width:
                continue
            if width == 8:
                found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
            else:
                found.add("::1" if address.endswith("01000000") and address.strip("0") == "1" else address)
    return found


def _serve_address(env: dict[str, str]) -> str:
    answer = subprocess.run(
        [sys.executable, "-m", "studio", "serve-address"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return answer.stdout.strip()


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STUDIO_")}
    env["STUDIO_DATA_DIR"] = str(tmp_path / "data")
    env["STUDIO_SECRETS_FILE"] = str(tmp_path / "none.toml")
    return env


def test_the_serve_address_opens_up_only_with_sign_in_or_the_setting(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    assert _serve_address(env) == "127.0.0.1"
    assert _serve_address({**env, "STUDIO_OPEN_TO_NETWORK": "true"}) == "0.0.0.0"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(SECRETS.format(metadata_url="http://127.0.0.1:9/x").replace("{port}", "8501"))
    assert _serve_address({**env, "STUDIO_SECRETS_FILE": str(secrets)}) == "0.0.0.0"
    start = (ROOT / "scripts" / "start.sh").read_text()
    assert "python -m studio serve-address" in start and '--server.address "$address"' in start
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none"  # no stack traces for people


def test_a_plain_streamlit_run_listens_on_loopback_only(tmp_path: Path) -> None:
    """`streamlit run app.py` with no address flag: .streamlit/config.toml keeps it on 127.0.0.1."""
    env = _clean_env(tmp_path)
    port = free_port()
    log = tmp_path / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
