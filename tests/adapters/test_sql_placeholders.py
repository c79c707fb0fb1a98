"""SQL is written once with ``?`` placeholders (``adapters.sql``); a ``?`` or ``%`` that is
text — in a string, a quoted name, a comment, or the modulo operator — stays what it is, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sql import Database, DatabaseUrl, open_database, qmark_to_format

# The characters that matter to quoting and placeholders, and some that do not.
TEXT = st.text(alphabet="?%'\"\\$-*/ ab\n", max_size=12)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(DatabaseUrl.parse(database_url), pool_size=1)
    yield database
    database.close()


def _select(db: Database, sql: str, params: list[Any]) -> list[Any]:
    with db.read() as cur:
        cur.execute(sql, params)
        return list(cur.fetchone())


def test_text_placeholders_and_percent_signs_in_one_statement(db: Database) -> None:
    sql = ("SELECT '?', 'it''s 50% ?', CAST(? AS TEXT), 7 % 3, "
           '(SELECT "who?" FROM (SELECT CAST(? AS TEXT) AS "who?") AS t) -- and ? 100%\n'
           "/* ? % */")
    assert _select(db, sql, ["a%s?", "b"]) == ["?", "it's 50% ?", "a%s?", 1, "b"]


def test_a_like_pattern_and_its_escape_character(db: Database) -> None:
    with db.write() as cur:
        cur.execute("CREATE TABLE notes (body TEXT NOT NULL)")
        cur.executemany("INSERT INTO notes (body) VALUES (?)",
                        [("100% sure?",), ("100 percent",), ("why?",)])
        cur.execute("SELECT body FROM notes WHERE body LIKE '%\\%%' ESCAPE '\\' "
                    "OR body LIKE ? ORDER BY body", ["%y?"])
        assert [row[0] for row in cur.fetchall()] == ["100% sure?", "why?"]


def _piece(kind: str, text: str) -> tuple[str, list[Any], list[Any]]:
    """``(sql, params, values it selects)`` for one item of a select list."""
    if kind == "param":
        return "CAST(? AS TEXT)", [text], [text]
    if kind == "string":
        return "'" + text.replace("'", "''") + "'", [], [text]
    if kind == "name":
        name = '"' + (text or "n").replace('"', '""') + '"'
        return f"(SELECT {name} FROM (SELECT CAST(? AS TEXT) AS {name}) AS t)", ["v"], ["v"]
    if kind == "escape":  # PostgreSQL only
        return "E'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'", [], [text]
    if kind == "dollar":  # PostgreSQL only
        return "$q$" + text + "$q$", [], [text]
    return "17 % 5", [], [2]


def _comment(text: str) -> str:
    if "*/" in text or "/*" in text:  # PostgreSQL nests block comments
        return " -- " + text.replace("\n", " ") + "\n"
    return " /* " + text + " */ "


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(st.sampled_from(
           ["param", "string", "name", "escape", "dollar", "modulo"]), TEXT, TEXT),
       min_size=1, max_size=8))
def test_any_mix_of_text_and_placeholders_selects_what_was_written(
        db: Database, items: list[tuple[str, str, str]]) -> None:
    columns, params, expected = [], [], []
    for kind, text, comment in items:
        if kind in ("escape", "dollar") and db.dialect != "postgresql":
            kind = "string"
        if kind == "dollar" and "$q" in text:
            kind = "string"
        sql, more, values = _piece(kind, text)
        columns.append(sql + _comment(comment))
        params += more
        expected += values
    assert _select(db, "SELECT " + ", ".join(columns), params) == expected


def test_the_translation_changes_placeholders_and_percent_signs_only() -> None:
    assert qmark_to_format("UPDATE t SET a = ? WHERE b LIKE 'x%?' AND c = ? -- ?") == (
        "UPDATE t SET a = %s WHERE b LIKE 'x%%?' AND c = %s -- ?")
    assert qmark_to_format("SELECT E'it\\'s ?', $$ ? $$, \"a?\", ?") == (
        "SELECT E'it\\'s ?', $$ ? $$, \"a?\", %s")
