"""The layering as a test, read from the source with ``ast`` (no imports run):

- ``domain`` imports only the standard library, ``eventsourcing`` and itself;
- ``adapters`` import neither ``api`` nor ``projections``; ``projections`` do not import ``api``;
- the application services (``api/application``) import nothing else of ``api``: the routes,
  the CLI, the worker and the console call them, never the other way round;
- ``adapters/standard_webhooks.py`` (imported or copied by host applications) needs only the
  standard library;
- no code tells events apart by name (``type(e).__name__ == "Erased"``, a dict or set of event
  names): it dispatches on the classes (``isinstance(e, Address.Erased)``, a dict keyed by
  ``Address.Erased``), which mypy checks and a rename breaks loudly instead of silently.

Every import counts, also one inside a function or under ``TYPE_CHECKING``. An event's name
as *data* (the SPEC §4 ``type`` of an export, a ``cause`` column) is fine: only comparing,
looking up or listing by it is dispatch.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate

from domain.address import Address
from domain.sender import Sender

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "adapters", "projections", "api")
# Where event dispatch is also checked: code people copy from.
EXAMPLES = ("bench", "docs/examples")
FORBIDDEN = {"adapters": {"api", "projections"}, "projections": {"api"}}
ONLY = {"domain": {"domain", "eventsourcing"}, "adapters/standard_webhooks.py": set()}
SERVICES = "api/application/"
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def _event_names() -> frozenset[str]:
    """The events of our aggregates (not the library's ``Event``/``Created``), and
    ``Redacted``, which stands in for any of them once erased."""
    names = {"Redacted"}
    for aggregate in (Address, Sender):
        names |= {name for name, value in vars(aggregate).items()
                  if isinstance(value, type) and issubclass(value, Aggregate.Event)
                  and not hasattr(Aggregate, name)}
    return frozenset(names)


EVENT_NAMES = _event_names()


def sources(*tops: str) -> Iterator[tuple[str, ast.Module]]:
    for top in tops:
        for path in sorted((ROOT / top).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


# -- imports ------------------------------------------------------------------------------------


def imports(path: str, tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every import, relative ones resolved from ``path``."""
    package = path.removesuffix(".py").split("/")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                yield node.lineno, ".".join([*base, *filter(None, [node.module])])
            else:
                yield node.lineno, node.module or ""


def layer_violations(path: str, tree: ast.AST) -> list[tuple[str, int, str]]:
    """``(path, line, module)`` of each import the file's layer may not make."""
    layer = path.split("/")[0]
    only = ONLY.get(path, ONLY.get(layer))
    found = []
    for line, module in imports(path, tree):
        top = module.split(".")[0]
        refused = top in FORBIDDEN.get(layer, ())
        if only is not None:
            refused |= top not in only and top not in STDLIB
        if path.startswith(SERVICES):
            refused |= top == "api" and not module.startswith("api.application")
        if refused:
            found.append((path, line, module))
    return found


def test_each_layer_imports_only_what_it_may() -> None:
    found = [f"{path}:{line} imports {module}"
             for path, tree in sources(*PACKAGES)
             for path, line, module in layer_violations(path, tree)]
    assert found == []


@pytest.mark.parametrize(("path", "source"), [
    ("adapters/x.py", "from api.services import Services"),
    ("adapters/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from projections.base import View"),
    ("adapters/x.py", "def f():\n    import projections.queries"),
    ("projections/x.py", "from api import deps"),
    ("domain/x.py", "import pydantic"),
    ("domain/x.py", "from adapters.sql import Cursor"),
    ("domain/sub/x.py", "from ...adapters import sql"),
    ("adapters/standard_webhooks.py", "import httpx"),
    ("adapters/standard_webhooks.py", "from domain.text import storable"),
    ("api/application/x.py", "from api.services import Services"),
    ("api/application/x.py", "def f():\n    from api import metrics"),
])
def test_a_forbidden_import_is_found(path: str, source: str) -> None:
    assert layer_violations(path, ast.parse(source)) != []


@pytest.mark.parametrize(("path", "source"), [
    ("domain/x.py", "from __future__ import annotations\nimport re\n"
                    "from eventsourcing.domain import Aggregate\nfrom domain.text import storable"),
    ("domain/x.py", "from .policy import verdict"),
    ("adapters/x.py", "import psycopg\nfrom domain.address import Address\n"
                      "from adapters import sql"),
    ("projections/x.py", "from adapters.sql import Cursor\nfrom domain.policy import apply"),
    ("api/x.py", "from projections.queries import StatusQueries\nimport fastapi"),
    ("api/application/x.py", "from projections.senders import volumes_in\n"
                             "from api.application.sending import Sending"),
])
def test_an_allowed_import_is_not_found(path: str, source: str) -> None:
    assert layer_violations(path, ast.parse(source)) == []


# -- dispatch on event names ----------------------------------------------------------------------


def _is_type_name(node: ast.AST) -> bool:
    """``type(x).__name__`` or ``x.__class__.__name__``."""
    if not (isinstance(node, ast.Attribute) and node.attr == "__name__"):
        return False
    inner = node.value
    return ((isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
             and inner.func.id == "type")
            or (isinstance(inner, ast.Attribute) and inner.attr == "__class__"))


def _is_event_name(node: ast.AST) -> bool:
    """An event's name as a literal, or a literal collection of nothing but event names."""
    if isinstance(node, ast.Constant):
        return node.value in EVENT_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set) and node.elts:
        return all(isinstance(e, ast.Constant) and e.value in EVENT_NAMES for e in node.elts)
    return False


def _type_name_variables(tree: ast.AST) -> set[str]:
    """Names bound to ``type(x).__name__`` (``kind = type(e).__name__``, also unpacked)."""
    bound = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = (zip(target.elts, node.value.elts, strict=False)
                     if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                     else [(target, node.value)])
            bound |= {t.id for t, v in pairs if isinstance(t, ast.Name) and _is_type_name(v)}
    return bound


def name_dispatch(tree: ast.AST) -> list[int]:
    """Lines where events are told apart by name."""
    variables = _type_name_variables(tree)

    def by_name(node: ast.AST) -> bool:
        return (_is_type_name(node) or _is_event_name(node)
                or (isinstance(node, ast.Name) and node.id in variables))

    lines = set()
    for node in ast.walk(tree):
        keys: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            keys = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            keys = [node.slice]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get" and node.args):
            keys = [node.args[0]]
        elif isinstance(node, ast.Dict):
            keys = [k for k in node.keys if k is not None]
        elif isinstance(node, ast.MatchValue):
            keys = [node.value]
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and _is_event_name(node):
            keys = [node]
        if any(by_name(k) for k in keys):
            lines.add(node.lineno)
    return sorted(lines)


def test_no_code_dispatches_on_event_names() -> None:
    found = [f"{path}:{line}" for path, tree in sources(*PACKAGES, *EXAMPLES)
             for line in name_dispatch(tree)]
    assert found == [], "dispatch on the event classes (isinstance, a dict keyed by class)"


@pytest.mark.parametrize("source", [
    'if type(e).__name__ == "Erased":\n    pass',
    'if e.__class__.__name__ != "Delivered":\n    pass',
    'kind = type(e).__name__\nif kind in handled:\n    pass',
    'kind, key = type(e).__name__, e.originator_id\ncounts[kind] += 1',
    "handler = HANDLERS.get(type(e).__name__)",
    "handler = HANDLERS[type(e).__name__]",
    'HANDLERS = {"MessageSent": sent, "Delivered": delivered}',
    'BOUNCES = frozenset({"HardBounced", "SoftBounced", "SenderRejected"})',
    'SIMULATED = ("SoftBounceEscalated",)',
    'if event.type == "Erased":\n    pass',
    'match kind:\n    case "Erased":\n        pass',
])
def test_dispatch_on_a_name_is_found(source: str) -> None:
    assert name_dispatch(ast.parse(source)) != []


@pytest.mark.parametrize("source", [
    "if isinstance(e, Address.Erased):\n    pass",
    "HANDLERS = {Address.MessageSent: sent}",
    "row = (position, type(cause).__name__)",  # the name as data
    'log.warning("failed: %s", type(error).__name__)',
    'SUBTYPES = frozenset({"OnAccountSuppressionList", "Suppressed"})',  # SES's bounce subtypes
    'if status == "suppressed":\n    pass',
])
def test_dispatch_on_a_class_is_not_found(source: str) -> None:
    assert name_dispatch(ast.parse(source)) == []


def test_the_event_names_are_those_of_the_aggregates() -> None:
    assert {"Registered", "HardBounced", "Erased", "RegisteredAgain", "SenderStateChanged",
            "Redacted"} <= EVENT_NAMES
    assert not {"Event", "Snapshot", "Created"} & EVENT_NAMES
