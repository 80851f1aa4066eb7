"""One circle, three languages: each member reads the bot in their own language and zone (issue 13)."""

from __future__ import annotations

from tests.test_console import posts, run_console

SCRIPT = """\
/as alice Europe/London
/circle new "Crew" starter Europe/London tue 17:00
/as bob America/Mexico_City
/circle me language es
/circle join crew
/as carol Europe/Berlin
/circle me language de
/circle join crew
/as alice
/circle start
/tick 7d
/circle next
/circle checkin A walk a day | A friend | Walk on Monday
/as bob
/circle next
/circle checkin Caminar cada día | Una amiga | Caminar el lunes
/as carol
/circle next
/circle checkin Jeden Tag gehen | Eine Freundin | Montag gehen
/tick 9d
"""


def replies(output: str, person: str) -> list[str]:
    """What ``person`` saw answered to each of their ``/circle next`` lines."""
    blocks = output.split(f"{person}> /circle next\n")[1:]
    return [block.split("\n\n")[0].split(f"{person}> ")[0] for block in blocks]


def test_members_read_the_same_week_in_english_spanish_and_german_in_their_own_zones():
    output = run_console(SCRIPT)
    # Each one's answer to `/circle me language` is already in the new language.
    assert "Guardado. Ahora verás las horas y los mensajes así:" in output
    assert "Gespeichert. So liest du Zeiten und Nachrichten jetzt:" in output
    # Joining: the slot in the circle's zone, the next meeting in the reader's, in their language.
    assert ("Te has unido a “Crew”. Se reúne cada martes a las 17:00 (Europe/London); "
            "en tu zona horaria, la próxima es el mar, 2 feb 2027, 11:00 (America/Mexico_City).") in output
    assert ("Du bist „Crew“ beigetreten. Der Kreis trifft sich jeden Dienstag um 17:00 (Europe/London); "
            "in deiner Zeitzone ist das nächste am Di., 2. Feb. 2027, 18:00 (Europe/Berlin).") in output

    # Week 1, as each of them reads it: the kit's words and the next step, in their language and zone.
    [english] = replies(output, "alice")
    [spanish] = replies(output, "bob")
    [german] = replies(output, "carol")
    assert "This week: Meeting each other and one small goal" in english
    assert "Next: week 1 meeting reminder: Tue 9 Feb 2027 16:00 (Europe/London)" in english
    assert "Esta semana: Conocernos y una pequeña meta" in spanish
    assert "• Una breve presentación" in spanish
    assert "Siguiente: recordatorio de la reunión de la semana 1: mar, 9 feb 2027, 10:00 (America/Mexico_City)" in spanish
    assert "Diese Woche: Einander kennenlernen und ein kleines Ziel" in german
    assert "• Eine kurze Vorstellung" in german
    assert "Als Nächstes: Erinnerung an das Treffen von Woche 1: Di., 9. Feb. 2027, 17:00 (Europe/Berlin)" in german

    # The circle's own posts are in the circle's language (its creator's), stamped in its zone.
    delivered = posts(output)
    assert ("Sun 7 Feb 2027 17:00 (Europe/London)", "#crew", "== Week 1 of 4: Meeting each other and one small goal ==") in delivered

    # Week 2: each member's commitment comes back by DM, in their language, stamped in their own zone.
    commitments = [(where, when, title) for when, where, title in delivered if title.startswith("== Crew: ")]
    assert commitments == [
        ("DM to alice", "Tue 16 Feb 2027 18:00 (Europe/London)", "== Crew: your commitment =="),
        ("DM to bob", "Tue 16 Feb 2027 12:00 (America/Mexico_City)", "== Crew: tu compromiso =="),
        ("DM to carol", "Tue 16 Feb 2027 19:00 (Europe/Berlin)", "== Crew: dein Vorsatz =="),
    ]
    assert "La última vez te comprometiste a: “Caminar el lunes”. ¿Cómo te fue?" in output
    assert "Letztes Mal hast du dir vorgenommen: „Montag gehen“. Wie ist es gelaufen?" in output


def test_a_circle_formed_in_spanish_posts_in_spanish_with_the_spanish_kit():
    script = "\n".join([
        "/as bea Europe/Madrid",
        "/circle me language es",
        '/circle new "Círculo del martes" starter Europe/Madrid tue 18:00',
        "/as dan America/Toronto", "/circle join circulo-del-martes",
        "/as eva Europe/Berlin", "/circle me language de", "/circle join circulo-del-martes",
        "/as bea", "/circle start", "/tick 7d",
    ]) + "\n"
    output = run_console(script)
    delivered = posts(output)
    in_circle = [title for _, where, title in delivered if where == "#circulo-del-martes"]
    assert "== Te damos la bienvenida a “Círculo del martes” ==" in in_circle
    assert "dan se ha unido al círculo. ¡Le damos la bienvenida!" in in_circle
    assert "== Semana 1 de 4: Conocernos y una pequeña meta ==" in in_circle
    assert "Objetivo: Conocer a las personas de tu círculo y elegir una pequeña meta" in output
    assert "Reunión: mar, 9 feb 2027, 18:00 (Europe/Madrid)" in output
    # The moderator's notes, to a Spanish reader, from the Spanish kit.
    assert "== Notas para el moderador, semana 1: Conocernos y una pequeña meta ==" in output
