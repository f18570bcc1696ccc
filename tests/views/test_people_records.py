"""Who did what, on the pages (issue 15): History's person filter and "by" column, the audit tab,
a member not seeing a teammate's private batch, an export in the audit list, and a language
choice that stays with the person who made it.

People are simulated by replacing `ui.auth.current_person` (and the name where a ui module
imported it), which is how every page asks who is acting.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.audit_views
import ui.batch_views
import ui.compare_views
import ui.layout
import ui.review_views
from providers.base import Operation
from studio.i18n import translate
from studio.jobs import BatchStatus, ReviewState
from studio.people import Person
from studio.service import JobRequest, Studio
from studio.store import ActivityFilter
from tests.views.conftest import RUN_TIMEOUT_S, open_app, texts
from tests.views.photos import product_photo
from ui import auth
from ui.plain import plain

ADMIN = Person("boss@shop.com", "Boss", "admin")
ANA = Person("ana@shop.com", "Ana", "member")
BO = Person("bo@shop.com", "Bo", "member")
VIV = Person("viv@shop.com", "Viv", "viewer")


# Imported now, so they hold the real `current_person` and `act_as` can swap it (a module first
# imported while it is swapped would keep the stand-in after the test).
_USERS = (ui.audit_views, ui.batch_views, ui.compare_views, ui.layout, ui.review_views)


def act_as(monkeypatch: pytest.MonkeyPatch, person: Person) -> None:
    """Every page and ui module now sees `person` as the one using the session."""
    monkeypatch.setattr(auth, "current_person", lambda: person)
    for name, module in list(sys.modules.items()):
        if name.startswith("ui.") and module is not auth and hasattr(module, "current_person"):
            monkeypatch.setattr(module, "current_person", lambda: person)


def request(studio: Studio, prompt: str = "white marble") -> JobRequest:
    image = studio.prepare_image(product_photo((160, 130)), "mug.png")
    return JobRequest(Operation.PROMPT_BACKGROUND, "local", image, prompt=prompt, count=1, size=(128, 128))


class Item:
    def __init__(self, studio: Studio, sku: str) -> None:
        self.sku = sku
        self.request = request(studio)
        self.checked = studio.check_job(self.request)


def start(studio: Studio, name: str, person: Person, *, shared: bool = False) -> str:
    return studio.batches.start([Item(studio, f"{name}-1")], name=name, by=person.key, shared=shared)


def wait_done(studio: Studio, batch_id: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = studio.batches.get(batch_id)
        if batch is not None and batch.status is BatchStatus.DONE:
            return
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not finish")


def test_history_filters_by_person_and_shows_who(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    ana_job = studio.submit_job(request(studio, "ana's marble"), by=ANA.key)
    bo_job = studio.submit_job(request(studio, "bo's linen"), by=BO.key)

    at = open_app("views/history.py")  # the local person: an admin
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert set(table["job_id"]) == {ana_job, bo_job}
    assert set(table["by"]) == {ANA.key, BO.key}
    people = at.selectbox(key="history.person.en")
    assert people.options[:2] == [
        translate("en", "people.filter.everyone"),
        translate("en", "people.filter.me", who=translate("en", "people.local")),
    ]
    assert set(people.options[2:]) == {ANA.key, BO.key}
    people.set_value(BO.key).run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["job_id"]) == [bo_job]
    assert [tab.label for tab in at.tabs] == [
        translate("en", "people.tab.jobs"),
        translate("en", "people.tab.audit"),
    ]

    act_as(monkeypatch, ANA)  # a member: only her own jobs, and no audit tab
    member = open_app("views/history.py")
    assert not member.exception, member.exception
    assert list(member.dataframe[0].value["job_id"]) == [ana_job]
    assert member.selectbox(key="history.person.en").options == [
        translate("en", "people.filter.visible"),
        translate("en", "people.filter.me", who=ANA.key),
    ]
    assert not member.tabs


def test_a_member_does_not_see_another_members_private_batch(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(studio, "ana-private", ANA)
    start(studio, "bo-private", BO)
    start(studio, "bo-shared", BO, shared=True)

    act_as(monkeypatch, ANA)
    at = open_app("views/batches.py")
    assert not at.exception, at.exception
    shown = " ".join(at.selectbox(key="batch.pick.en").options)
    assert "ana-private" in shown and "bo-shared" in shown and "bo-private" not in shown

    act_as(monkeypatch, VIV)  # a viewer reviews the shared batch only
    review = open_app("views/review.py")
    assert not review.exception, review.exception
    shown = " ".join(review.selectbox(key="review.batch.en").options)
    assert "bo-shared" in shown and "private" not in shown


def test_a_member_shares_her_batch_but_cannot_stop_a_teammates(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = start(studio, "ana-batch", ANA)
    theirs = start(studio, "bo-shared", BO, shared=True)
    act_as(monkeypatch, ANA)
    at = open_app("views/batches.py")
    at.selectbox(key="batch.pick.en").set_value(mine).run()
    assert not at.exception, at.exception
    at.toggle(key=f"batch.share.{mine}").set_value(True).run()
    assert not at.exception, at.exception
    batch = studio.batches.get(mine)
    assert batch is not None and batch.shared
    (entry,) = studio.activity(ActivityFilter(actions=("batch_share",)))
    assert (entry.who, entry.subject, entry.details["shared"]) == (ANA.key, mine, True)

    at.selectbox(key="batch.pick.en").set_value(theirs).run()
    assert not at.exception, at.exception
    seen = translate("en", "people.shared")
    assert translate("en", "people.started_by", who=plain(BO.key), seen=seen) in texts(at)
    assert at.button(key=f"batch.cancel.{theirs}").disabled
    assert not [toggle for toggle in at.toggle if toggle.key == f"batch.share.{theirs}"]


def test_an_export_writes_an_audit_entry(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    batch_id = start(studio, "ana-export", ANA)
    wait_done(studio, batch_id)
    job = studio.batches.jobs(batch_id)[0]
    studio.batches.review(job.job_id, 1, decision=ReviewState.APPROVED, by=ANA.key)

    act_as(monkeypatch, ANA)
    review = open_app("views/review.py")
    review.session_state["review.batch.en"] = batch_id
    review.run()
    review.button(key="review.export.build").click().run()
    assert not review.exception, review.exception
    _, files, failures = review.session_state["review.export.zip"]
    assert files == 1 and failures == []
    (entry,) = studio.activity(ActivityFilter(actions=("export",)))
    assert (entry.who, entry.subject, entry.details["files"]) == (ANA.key, batch_id, 1)

    monkeypatch.undo()  # the local admin reads it in the audit tab
    monkeypatch.setenv("STUDIO_DATA_DIR", str(studio.settings.data_dir))
    admin = open_app("views/history.py")
    assert not admin.exception, admin.exception
    audit = admin.dataframe[-1].value
    assert translate("en", "people.action.export") in set(audit["action"])
    assert ANA.key in set(audit["who"])


def _language_app(person: "Person") -> None:  # noqa: UP037 (AppTest runs the body's source alone)
    import streamlit as st

    from ui.i18n import init_language, language_switch, t
    from ui.services import get_studio

    studio = get_studio()
    init_language(studio, person)
    language_switch(studio, person)
    st.title(t("page.history.title"))


def language_session(person: Person) -> AppTest:
    at = AppTest.from_function(_language_app, args=(person,), default_timeout=RUN_TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def test_one_persons_language_does_not_change_anothers(studio: Studio, data_dir: Path) -> None:
    ana = language_session(ANA)
    ana.selectbox(key="ui.lang.widget").set_value("zh").run()
    assert ana.title[0].value == translate("zh", "page.history.title")
    assert studio.get_preference("language:ana@shop.com") == "zh"

    bo = language_session(BO)  # a new session of someone else: the default, not Ana's choice
    assert bo.title[0].value == translate("en", "page.history.title")
    again = language_session(ANA)  # Ana's next session keeps hers
    assert again.title[0].value == translate("zh", "page.history.title")
    assert studio.get_preference("ui.language") is None  # nobody's choice became the global default
