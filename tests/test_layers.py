"""Apps import downwards only: reporting → actions → axes → partners (issue 12: "axes/ stops
importing from actions/"). Read from the source, so that an import hidden inside a function
counts too."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["partners", "axes", "actions", "reporting"]


def imported_apps(app: str) -> dict[str, set[str]]:
    """{module path: the project's apps it imports}, for every module of the app but migrations."""
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        apps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                apps |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                apps.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = apps & set(LAYERS)
    return found


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_never_imports_the_apps_above_it(app):
    above = set(LAYERS[LAYERS.index(app) + 1 :])
    wrong = {module: sorted(apps & above) for module, apps in imported_apps(app).items() if apps & above}
    assert wrong == {}
