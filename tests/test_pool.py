"""The pool through the command service and storage, on SQLite and PostgreSQL: sign-ups, history, schedules, privacy."""

from __future__ import annotations

import json
from datetime import timedelta

from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from requesting import run
from test_service import T0, person, say, service  # noqa: F401  (service is a fixture)

from bot.effects import DirectMessage, SendFile
from storage.codec import load_delivery
from storage.models import OutboxRow
from sqlmodel import Session, select

ROOT = person("root", admin=True)
FOUR = [person(name) for name in ("alice", "bob", "carol", "dan")]


def sign_up(service, actor, extra: str = "") -> str:
    moderate = "moderate yes" if actor.user.id == "alice" else ""
    return say(service, actor, f"/circle signup starter tue 17-20 tz Europe/London {moderate} {extra}")


def dms(service) -> list[tuple[str, str]]:
    """(recipient, title) of every DM queued, in order."""
    with Session(service.engine) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.kind == "DirectMessage").order_by(OutboxRow.id)).all()
    out = []
    for row in rows:
        effect = load_delivery(row.kind, row.payload)
        assert isinstance(effect, DirectMessage)
        out.append((effect.to.id, effect.message.title.msgid if effect.message.title else ""))
    return out


def test_people_who_were_in_a_circle_together_are_not_matched_again_unless_they_all_ask(service):
    say(service, FOUR[0], '/circle new "Crew" starter UTC tue 17:00')
    for actor in FOUR[1:]:
        say(service, actor, "/circle join crew")
    for actor in FOUR:
        sign_up(service, actor)
    report = say(service, ROOT, "/circle match")
    assert "0 new circles for 0 people" in report and "only people they met in a circle before: 4" in report
    # They would rather meet people they know: then they may meet again.
    for actor in FOUR:
        sign_up(service, actor, "known")
    assert "1 new circles for 4 people" in say(service, ROOT, "/circle match")


def test_matching_is_opt_in_and_stays_in_its_workspace(service):
    for actor in FOUR:
        sign_up(service, actor)
    elsewhere = person("mallory", workspace="T2")
    sign_up(service, elsewhere)
    assert "Only a workspace admin can match the pool." in say(service, FOUR[0], "/circle match")
    assert "1 new circles for 4 people: #starter-circle-alice" in say(service, ROOT, "/circle match")
    recipients = {to for to, _ in dms(service)}
    assert recipients == {"alice", "bob", "carol", "dan"}  # mallory (T2) and nobody who did not sign up
    assert "== You have a circle: #starter-circle-alice" not in say(service, elsewhere, "/circle signup")
    assert "Your sign-up" in say(service, elsewhere, "/circle signup")
    # The matched left the pool and are members of the forming circle, alice moderating.
    assert "Not in the pool" in say(service, FOUR[1], "/circle signup")
    info = say(service, FOUR[1], "/circle info")
    assert "• Alice (moderator)" in info and "• Dan" in info


def test_a_scheduled_match_runs_from_the_clock(service):
    assert "The pool is matched every Tuesday at 08:00 (UTC)." in say(service, ROOT, "/circle match every tue 08:00 UTC")
    for actor in FOUR:
        sign_up(service, actor)
    due = service.store.next_wake()
    assert due == T0 + timedelta(days=7, hours=-1)  # T0 is Tue 09:00 UTC: next Tuesday 08:00
    service.ticker.tick_due(due)
    assert ("alice", "You have a circle: #{handle}") in dms(service)
    assert service.store.next_wake() > due  # the next week's run, and the circle is due for nothing yet
    assert "The pool is no longer matched on a schedule" in say(service, ROOT, "/circle match off")


def test_export_shows_the_sign_up_and_forget_me_leaves_the_pool(service):
    sign_up(service, FOUR[1])
    [file] = [r for r in run(service.commands, FOUR[1], "/circle export", T0) if isinstance(r, SendFile)]
    assert json.loads(file.content)["signup"]["hours"] == "tue 17-20"
    say(service, FOUR[1], "/circle forget-me confirm")
    assert "Not in the pool" in say(service, FOUR[1], "/circle signup")


def test_bad_sign_ups_get_a_clear_message_and_change_nothing(service):
    assert "Unknown kit" in say(service, FOUR[0], "/circle signup knitting tue 17-20 tz UTC")
    assert "Which time zone are your hours in?" in say(service, FOUR[0], "/circle signup starter tue 17-20")
    assert "I could not read the hours" in say(service, FOUR[0], "/circle signup starter someday 17-20 tz UTC")
    assert "Not in the pool" in say(service, FOUR[0], "/circle signup")
