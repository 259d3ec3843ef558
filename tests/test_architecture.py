"""The package structure of docs/architecture.md holds: layers (import-linter, configured in
pyproject.toml), no import cycles, small folders without prefix families, and use cases that speak
the domain (no HTTP statuses, no ``request``, in the domain packages)."""
import ast
from collections import defaultdict
from pathlib import Path

import grimp
from importlinter.application.use_cases import lint_imports
from importlinter.configuration import configure

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sampling"
DOMAIN_PACKAGES = ("kernel", "residents", "field", "lab", "rosters", "stats", "models")
MAX_MODULES = 10  # per folder, __init__ not counted; most hold five to eight


def _folders():
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir())]:
        if "migrations" in folder.parts or "translations" in folder.parts or folder.name == "__pycache__":
            continue
        modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
        if modules:
            yield folder, modules


def test_packages_import_only_the_layers_below_them():
    configure()
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None), \
        "an import crosses the layers: run .venv/bin/lint-imports for the chain"


def test_no_module_imports_itself_back():
    graph = grimp.build_graph("sampling", include_external_packages=False)
    cycles = sorted({tuple(sorted((module, imported)))
                     for module in graph.modules for imported in graph.find_modules_directly_imported_by(module)
                     if graph.chain_exists(importer=imported, imported=module)})
    assert cycles == []


def test_folders_are_small_and_have_no_prefix_families():
    for folder, modules in _folders():
        where = folder.relative_to(ROOT)
        assert len(modules) <= MAX_MODULES, (str(where), modules)
        families = defaultdict(list)
        for name in modules:
            if "_" in name:
                families[name.split("_")[0]].append(name)
        for prefix, members in families.items():
            # a family told apart by a prefix belongs in a package of its own
            assert len(members) < 2 and prefix not in modules, (str(where), prefix, members)


def _domain_sources():
    for package in DOMAIN_PACKAGES:
        for path in sorted((PACKAGE / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_use_cases_return_domain_values_not_http_answers():
    for path, tree in _domain_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and node.value.elts:
                first = node.value.elts[0]
                is_status = isinstance(first, ast.Constant) and isinstance(first.value, int) \
                    and 100 <= first.value <= 599
                assert not is_status, f"{path.relative_to(ROOT)}:{node.lineno} returns an HTTP status"


def test_domain_packages_never_read_the_request():
    for path, tree in _domain_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                names = {alias.name for alias in node.names}
                assert not names & {"request", "g", "session"}, f"{path.relative_to(ROOT)}:{node.lineno}"
