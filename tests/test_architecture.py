"""docs/architecture.md against the code: every module named, imports in one direction, no TensorFlow.

Reads the source with `ast` (every import, the ones inside functions too), so a lazy import
cannot hide a circle, and `cli.SUBCOMMANDS`' `importlib` imports count as imports.
"""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "asl_live"
DOC = REPO / "docs" / "architecture.md"
# The layers of docs/architecture.md, top to bottom: a module may import its own layer or those below.
LAYERS = ["commands", "reading", "view", "capture", "model", "formats", "basics"]
BASICS = {"asl_live", "asl_live.errors", "asl_live.bundled", "asl_live.assets"}


def module_files() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(path: Path, modules) -> set[str]:
    """The asl_live modules a file imports, at any depth of its code."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("asl_live"):
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names} & set(modules)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import (the package uses absolute imports)")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("asl_live")}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
            found.add(node.value)   # importlib.import_module("asl_live.record")
    return found


def layer(module: str) -> str:
    if module in BASICS:
        return "basics"
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in LAYERS else "commands"


def test_every_module_is_named_in_the_architecture_page_and_every_named_module_exists():
    text = DOC.read_text(encoding="utf-8")
    files = {str(p.relative_to(REPO)) for p in module_files().values()}
    named = set(re.findall(r"`(asl_live/[\w/]+\.py)`", text))
    assert files - named == set(), "modules missing from docs/architecture.md"
    assert named - files == set(), "docs/architecture.md names modules that do not exist"


def test_imports_point_down_the_layers_and_have_no_circle():
    modules = module_files()
    graph = {m: imports_of(p, modules) - {m} for m, p in modules.items()}
    upward = [(m, d) for m, deps in graph.items() for d in deps
              if d in modules and d not in BASICS and LAYERS.index(layer(d)) < LAYERS.index(layer(m))]
    assert upward == [], "imports that point up the layers of docs/architecture.md"
    # a depth-first search for a cycle
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if d not in modules or d == "asl_live":
                continue
            if state.get(d) == "open":
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in graph:
        if m not in state:
            visit(m)


def test_the_app_never_imports_tensorflow():
    """Only `model/runtime.py` may, as the last interpreter it tries when no TFLite runtime is installed."""
    for module, path in module_files().items():
        if module == "asl_live.model.runtime":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [n for n in names if n.split(".")[0] in ("tensorflow", "keras")], module


def test_the_model_files_imports_are_as_the_page_draws_them():
    """The block under "The model file, in one direction": `module -> its imports of asl_live.model`."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("### The model file, in one direction", 1)[1].split("```", 2)[1]
    drawn = {}
    for line in block.strip().splitlines():
        name, _, deps = line.partition("->")
        drawn[name.strip()] = {d.strip() for d in deps.split(",") if d.strip()}
    modules = module_files()
    actual = {}
    for m, path in modules.items():
        if m.startswith("asl_live.model."):
            deps = imports_of(path, modules)
            actual[m.rsplit(".", 1)[1]] = {d.rsplit(".", 1)[1] for d in deps
                                           if d.startswith("asl_live.model.") and d != m}
    assert drawn == actual
