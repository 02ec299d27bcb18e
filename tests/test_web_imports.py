"""The web package has no import circle: no bot.web module imports, directly or through others,
a module that imports it back — counting the imports written inside functions, which only put
a circle off until the function runs."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.web

PACKAGE = Path(bot.web.__file__).parent
ROOT = PACKAGE.parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in (
        "TYPE_CHECKING",
        "typing.TYPE_CHECKING",
    )


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The bot.web modules `module` imports anywhere in its body (run-time imports only)."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if _is_type_checking(node):
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from bot.web.api import views` imports the module bot.web.api.views.
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {name for name in found if name in known}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(files)
    return {
        name: _imports(ast.parse(path.read_text("utf-8")), name, path.stem == "__init__", known)
        for name, path in files.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules along it, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for target in sorted(graph[name]):
            found = visit(target, [*path, name])
            if found is not None:
                return found
        done.add(name)
        return None

    for name in sorted(graph):
        found = visit(name, [])
        if found is not None:
            return found
    return None


def test_the_web_package_has_no_import_circle() -> None:
    graph = _graph()
    assert "bot.web.app" in graph and "bot.web.api.views" in graph
    cycle = _cycle(graph)
    assert cycle is None, " → ".join(cycle)


def test_the_circle_check_sees_imports_inside_functions() -> None:
    source = "def setup():\n    from bot.web.app import CONTAINER\n"
    known = {"bot.web.app", "bot.web.landing"}
    imported = _imports(ast.parse(source), "bot.web.landing", False, known)
    assert imported == {"bot.web.app"}
    assert _cycle({"bot.web.app": {"bot.web.landing"}, "bot.web.landing": imported}) == [
        "bot.web.app",
        "bot.web.landing",
        "bot.web.app",
    ]
