"""The import graph, read from every module's imports (lazy ones included): data flows one way,
and `scheduler/` wires what sits below it. A lower layer never imports a higher one, so no two
parts import each other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("records", "scraper", "storage", "notify", "scheduler")
# scheduler's parts, lowest first: each may import only parts before it (and itself)
SCHEDULER = (
    "policy",
    "config",
    "ops",
    "context",
    "crawl",
    "delivery",
    "readouts",
    "cycle",
    "web",
    "daemon",
    "cli",
    "__init__",
)
# whom each package may import besides itself (scraper: only its store pipeline imports storage)
MAY_IMPORT = {
    "records": set(),
    "storage": {"records"},
    "notify": {"records"},
    "scraper": {"records", "storage"},
    "scheduler": {"records", "scraper", "storage", "notify"},
}


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def modules(package: str) -> Iterator[tuple[Path, str]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ".".join(path.relative_to(ROOT).with_suffix("").parts)


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[1] in SCHEDULER else "__init__"


def test_each_package_imports_only_what_lies_below_it() -> None:
    wrong = []
    for package in PACKAGES:
        for path, name in modules(package):
            for target in imports(path):
                top = target.split(".")[0]
                if top in PACKAGES and top != package and top not in MAY_IMPORT[package]:
                    wrong.append(f"{name} imports {target}")
                if package == "scraper" and top == "storage" and name != "scraper.pipelines":
                    wrong.append(f"{name} imports {target} (only the store pipeline may)")
    assert wrong == []


def test_schedulers_parts_import_only_the_parts_below_them() -> None:
    wrong = []
    for path, name in modules("scheduler"):
        mine = SCHEDULER.index(part(name))
        for target in imports(path):
            if target.split(".")[0] == "scheduler" and target != "scheduler":
                theirs = SCHEDULER.index(part(target))
                if theirs > mine:
                    wrong.append(f"{name} ({part(name)}) imports {target} ({part(target)})")
    assert wrong == []


def test_schedulers_top_holds_the_composition_only() -> None:
    top = sorted(path.stem for path in (ROOT / "scheduler").glob("*.py"))
    assert len(top) <= 8, top
