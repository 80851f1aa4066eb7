"""The service: commands through storage, as an adapter calls it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)

from sqlmodel import Session

from bot.actions import Action, Verb, encode_action
from bot.circle import Actor, UserRef
from bot.inputs import Pressed
from bot.effects import OpenForm, Reply
from bot.forming import circle_id
from bot.i18n import render
from circlebot.cli import main as cli_main
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from kits.loader import BUILTIN_DIR
from storage.outbox import Outbox
from storage.models import SpaceRow
from storage.repository import Store
from requesting import run

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def person(name: str, workspace: str = "T1", admin: bool = False) -> Actor:
    return Actor(UserRef("slack", workspace, name), name.title(), None, admin)


ALICE, BOB, CAROL = person("alice"), person("bob"), person("carol")
CREW, CREW_2 = circle_id("slack", "T1", "crew"), circle_id("slack", "T1", "crew-2")


@pytest.fixture
def service(engine) -> Wiring:
    return wire(engine, builtin_kits(), timedelta(hours=6))


def say(service: Wiring, actor: Actor, text: str, channel: str | None = None) -> str:
    responses = run(service.commands, actor, text, T0, channel)
    return "\n".join(
        render(r.message.title or "") + "\n" + "\n".join(render(line) for line in r.message.lines)
        if isinstance(r, Reply) else f"FORM {render(r.title)}"
        for r in responses
    )


def test_a_circle_in_another_workspace_is_invisible(service):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    stranger = person("mallory", workspace="T2")
    assert "There is no circle \u201ccrew\u201d here." in say(service, stranger, "/circle join crew")
    assert "There is no circle" in say(service, stranger, "/circle info crew")
    assert "#crew" not in say(service, stranger, "/circle list")


def test_handles_are_per_workspace_so_a_name_elsewhere_shows_nowhere(service, engine):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    stranger = person("mallory", workspace="T2")
    assert "You moderate \u201cCrew\u201d (#crew)." in say(service, stranger, '/circle new "Crew" starter UTC wed 17:00')
    say(service, BOB, "/circle join crew")
    say(service, person("trent", workspace="T2"), "/circle join #crew")
    assert "Tuesdays" in say(service, BOB, "/circle info") and "Wednesdays" in say(service, stranger, "/circle info crew")
    with service.store.transaction() as tx:
        ours, theirs = (tx.find("slack", workspace, "crew") for workspace in ("T1", "T2"))
    assert [m.user.id for m in ours.members] == ["alice", "bob"] and [m.user.id for m in theirs.members] == ["mallory", "trent"]
    queued = Outbox(engine).keys("pending")  # both circles' deliveries were queued: their keys never collide
    assert len([k for k in queued if k.startswith(f"{ours.id}/")]) == len([k for k in queued if k.startswith(f"{theirs.id}/")])


def test_outsiders_see_no_member_names(service):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    say(service, BOB, "/circle join crew")
    outsider = say(service, CAROL, "/circle info crew")
    assert "places free" in outsider and "Bob" not in outsider and "Alice" not in outsider
    assert "\u2022 Bob" in say(service, BOB, "/circle info")


def test_the_circle_is_found_from_the_space_or_by_name_when_someone_is_in_several(service):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    say(service, ALICE, '/circle new "Crew" starter UTC wed 17:00')  # same name: a second id
    assert "#crew" in say(service, ALICE, "/circle list") and "#crew-2" in say(service, ALICE, "/circle list")
    assert "You are in several circles; name one, e.g. #crew." in say(service, ALICE, "/circle info")
    with Session(service.engine) as session, session.begin():  # the second circle's space, as its OpenSpace receipt left it
        session.add(SpaceRow(circle_id=CREW_2, platform="slack", channel="C2"))
    assert "Wednesdays" in say(service, ALICE, "/circle info", channel="C2")
    assert "Tuesdays" in say(service, ALICE, "/circle info #crew")


def test_a_workspace_admin_may_run_moderator_commands(service):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    say(service, BOB, "/circle join crew")
    say(service, CAROL, "/circle join crew")
    assert "Only the moderator" in say(service, BOB, "/circle start")
    admin = person("root", admin=True)
    assert "Sorry" not in say(service, admin, "/circle start #crew")
    assert "running" in say(service, ALICE, "/circle info")


def test_a_refused_command_changes_nothing_and_queues_nothing(service, engine):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    before = Outbox(engine).counts()
    with service.store.transaction() as tx:
        circle = tx.load(CREW)
    for text in ("/circle start", "/circle checkin hi", "/circle remove nobody", "/circle frob", "/circle join crew"):
        assert "Sorry" in say(service, ALICE, text)
    with service.store.transaction() as tx:
        assert tx.load(CREW) == circle
    assert Outbox(engine).counts() == before


def test_checkin_without_answers_opens_a_form(service):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    say(service, BOB, "/circle join crew")
    say(service, CAROL, "/circle join crew")
    say(service, ALICE, "/circle start")
    service.ticker.tick(CREW, T0 + timedelta(days=6))
    [form] = run(service.commands, BOB, "/circle checkin", T0 + timedelta(days=6))
    assert isinstance(form, OpenForm) and form.action == Action(Verb.SUBMIT_CHECKIN, CREW, 1) and len(form.fields) >= 2


def test_a_missing_kit_is_a_clear_error_not_a_crash(engine):
    run(wire(engine, builtin_kits(), timedelta(hours=6)).commands, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    without = wire(engine, {}, timedelta(hours=6))
    assert "kit \u201cstarter\u201d is not installed" in say(without, ALICE, "/circle info")
    without.ticker.tick(CREW, T0)  # logged and skipped


def test_kits_validate_command(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text((BUILTIN_DIR / "starter.yaml").read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("    prompt:", "    promt:", 1))
    assert cli_main(["kits", "validate", str(good)]) == 0
    assert "ok \u2014 starter, 4 meetings" in capsys.readouterr().out
    assert cli_main(["kits", "validate", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: weeks[0].exercises[0].prompt: missing" in err
    assert f"{bad}: weeks[0].exercises[0].promt: unknown field" in err
    assert cli_main(["kits", "validate", str(tmp_path / "none.yaml")]) == 1
    assert "cannot read file" in capsys.readouterr().err


def test_again_forms_a_new_run_and_invites_the_members_back(service, engine):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    say(service, BOB, "/circle join crew")
    say(service, CAROL, "/circle join crew")
    assert "cannot" not in say(service, ALICE, "/circle start")
    assert "\u201cCrew\u201d is running, so you cannot go again now." in say(service, ALICE, "/circle again")
    service.ticker.tick(CREW, T0 + timedelta(days=400))  # long past the last tune-up: closed
    assert "Only the moderator" in say(service, BOB, "/circle again #crew")
    reply = say(service, ALICE, "/circle again #crew career")
    assert "You moderate \u201cCrew\u201d (#crew-2)." in reply
    with service.store.transaction() as tx:
        new, old = tx.load(CREW_2), tx.load(CREW)
    assert (new.kit_id, new.slot, [m.user for m in new.members]) == ("career", old.slot, [ALICE.user])
    outbox = Outbox(engine)
    queued = {q.effect.key: q.effect for q in outbox.claim(T0 + timedelta(days=401), 100)}
    invite = queued[f"{CREW_2}/r1/invite/{BOB.user.key}"]
    assert invite.to == BOB.user and invite.message.buttons[0].action == Action(Verb.JOIN, CREW_2)
    assert any(key.startswith(f"{CREW}/") and "join crew-2" in render(e.message.lines[0]) for key, e in queued.items() if hasattr(e, "message"))
    run(service.commands, BOB, Pressed(encode_action(invite.message.buttons[0].action)), T0)
    with service.store.transaction() as tx:
        assert [m.user for m in tx.load(CREW_2).members] == [ALICE.user, BOB.user]


def test_the_workplaces_own_support_resources_come_first(monkeypatch):
    from circlebot.wiring import installed_kits
    from circlebot.config import Settings

    monkeypatch.setenv("CIRCLEBOT_SUPPORT_RESOURCES", '["Assistance programme: ext. 4242, any hour"]')
    kits = installed_kits(Settings())
    assert all(kit.support.resources[0] == "Assistance programme: ext. 4242, any hour" for kit in kits.values())
    assert kits["career"].support.resources[1:] == builtin_kits()["career"].support.resources


def test_tick_due_pages_through_every_due_circle_and_never_spins(engine):
    service = wire(engine, builtin_kits(), timedelta(hours=6))
    for name in ("a", "b", "c"):
        say(service, ALICE, f'/circle new "{name}" starter UTC tue 17:00')
        say(service, BOB, f"/circle join {name}")
        say(service, CAROL, f"/circle join {name}")
        say(service, ALICE, f"/circle start #{name}")
    later = T0 + timedelta(days=6)
    assert Store(engine).due_circle_ids(later) == sorted(circle_id("slack", "T1", name) for name in "abc")
    assert service.ticker.tick_due(later, page=1) == 3
    assert Store(engine).due_circle_ids(later) == []
    # A circle whose kit is gone stays due; each call visits it once and returns.
    stuck = wire(engine, {}, timedelta(hours=6))
    assert stuck.ticker.tick_due(T0 + timedelta(days=30), page=1) == 3
