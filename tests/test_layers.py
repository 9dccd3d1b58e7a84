"""The house stands in one direction: each stage imports only the stages below it (every import
counted, those inside functions too), no file imports itself back through others, and the few
exceptions are the ones docs/architecture.md names with their reason. Read from the code with
``ast``, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shotscope"
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

# the stages, from the ground up: a module may import its own stage and the ones below
LAYERS: list[tuple[str, ...]] = [
    ("version", "errors", "labels", "files", "console", "config", "devices", "precisions", "threads",
     "provenance", "timecodes"),
    ("video",),
    ("model",),
    ("sources", "data", "views"),
    ("analysis",),
    ("outputs", "archive", "training"),
    ("runs",),
    ("web", "_cli", "demo", "__init__", "__main__"),
]
ALLOWED: set[tuple[str, str]] = set()  # (importer, imported) that run up a stage; see docs/architecture.md


def module_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def stage_of(module: str) -> int:
    head = module.split(".")[0]
    for level, names in enumerate(LAYERS):
        if head in names:
            return level
    raise AssertionError(f"{module}: in no stage of tests/test_layers.py (add it where it belongs)")


def imports_of(path: Path) -> set[str]:
    """The shotscope modules ``path`` imports, anywhere in it (a module, or the package a name is from)."""
    module = module_of(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name[len("shotscope."):] for a in node.names if a.name.startswith("shotscope.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.startswith("shotscope"):
                target = node.module[len("shotscope."):] if node.module != "shotscope" else ""
            else:
                continue
            names = [a.name for a in node.names]
            candidates = [f"{target}.{n}" if target else n for n in names]
            resolved = [c for c in candidates if (SRC / c.replace(".", "/")).with_suffix(".py").is_file()
                        or (SRC / c.replace(".", "/") / "__init__.py").is_file()]
            found |= set(resolved) if resolved else ({target} if target else {"__init__"})
    return {m for m in found if m and m != module}


def graph() -> dict[str, set[str]]:
    return {module_of(p): imports_of(p) for p in SRC.rglob("*.py")}


def test_every_import_runs_down_the_stages():
    upward = []
    for module, targets in graph().items():
        for target in targets:
            if stage_of(target) > stage_of(module) and (module, target) not in ALLOWED:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that run up a stage (docs/architecture.md):\n" + "\n".join(sorted(upward))


def test_no_import_circles():
    g = graph()
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(g.get(node, ())):
            if nxt not in g:
                continue
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_architecture_page_names_every_stage():
    text = DOC.read_text(encoding="utf-8")
    for names in LAYERS:
        for name in names:
            if not name.startswith("__"):
                assert f"`{name}" in text, name


@pytest.mark.parametrize("bad", ["from ..web import app", "from shotscope.web.app import create_app"])
def test_the_check_sees_an_import_inside_a_function(tmp_path, monkeypatch, bad):
    """A function-local import is an import: the check would catch one in video/ reaching web/."""
    fake = tmp_path / "shotscope"
    (fake / "video").mkdir(parents=True)
    (fake / "web").mkdir()
    (fake / "web" / "app.py").write_text("create_app = 1\n")
    (fake / "video" / "decode.py").write_text(f"def f():\n    {bad}\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", fake)
    with pytest.raises(AssertionError, match="video.decode -> web.app"):
        test_every_import_runs_down_the_stages()
