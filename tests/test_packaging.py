"""What the code imports is what ``pyproject.toml`` declares (issue 17, packaging).

Every third-party module imported by the service's packages must come from a declared
distribution: a module-level import from the base dependencies, an import inside a function
from the base dependencies or an extra (``analytics``: Parquet and the what-if chart;
``demo``: moto). A missing extra gives one clear line, not a traceback.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "adapters", "projections", "api")


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=~! ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_name(r) for r in project["dependencies"]}
    extras = {_name(r) for name in ("analytics", "demo")
              for r in project["optional-dependencies"][name]}
    return base, extras


def imports() -> dict[str, bool]:
    """Third-party top-level modules imported, and whether any import is at module level."""
    found: dict[str, bool] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            top_level = {id(node) for node in tree.body}
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and node.module
                         and node.level == 0 else [])
                for name in names:
                    module = name.split(".")[0]
                    if module in sys.stdlib_module_names or module in PACKAGES:
                        continue
                    found[module] = found.get(module, False) or id(node) in top_level
    return found


def test_every_imported_module_comes_from_a_declared_distribution() -> None:
    base, extras = declared()
    providers = packages_distributions()
    undeclared = []
    for module, at_module_level in sorted(imports().items()):
        distributions = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        allowed = base if at_module_level else base | extras
        if not distributions & allowed:
            undeclared.append((module, sorted(distributions), at_module_level))
    assert undeclared == []


def test_the_analysts_extras_are_not_base_dependencies() -> None:
    base, extras = declared()
    assert {"pyarrow", "matplotlib", "moto"} <= extras and not {"pyarrow", "matplotlib"} & base


@pytest.mark.parametrize(("blocked", "argv", "extra"), [
    ("pyarrow", ["export", "--format", "parquet", "--out", "{tmp}/x.parquet"], "analytics"),
    ("moto", ["demo"], "demo"),
])
def test_a_missing_extra_is_one_clear_line(blocked: str, argv: list[str], extra: str,
                                           tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNCELEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    for name in list(sys.modules):
        if name == blocked or name.startswith(blocked + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, blocked, None)  # makes ``import blocked`` fail
    result = CliRunner().invoke(app, [a.format(tmp=tmp_path) for a in argv])
    assert result.exit_code == 2, result.output
    assert f"bounceledger[{extra}]" in result.output and "Traceback" not in result.output
