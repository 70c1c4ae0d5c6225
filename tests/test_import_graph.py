"""The shape of the code, read from its imports (grimp, and import-linter's contracts in
pyproject.toml): no module reaches itself through its imports, the apps depend one way, the
sandbox stands apart, and only the tasks modules hand work to Celery."""

import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("outreach", "senders", "sequences", "ats_sync", "sandbox")
LAYERS = ("ats_sync", "sequences", "senders", "outreach")


def product_graph() -> grimp.ImportGraph:
    # Imports inside functions count: they are how circles used to be hidden.
    return grimp.build_graph(*PRODUCT, include_external_packages=False, cache_dir=None)


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of modules (Tarjan's algorithm, iterative): each group of
    two or more is a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append(
                        (target, iter(sorted(graph.find_modules_directly_imported_by(target))))
                    )
                    break
                if target in on_stack:
                    low[module] = min(low[module], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def upward_imports(graph: grimp.ImportGraph) -> set:
    return graph.find_illegal_dependencies_for_layers(layers=LAYERS)


def test_no_module_reaches_itself_through_its_imports():
    assert circles(product_graph()) == []


def test_the_apps_depend_one_way():
    assert upward_imports(product_graph()) == set()


def test_the_checks_catch_a_circle_and_an_upward_import_added_to_the_graph():
    graph = product_graph()
    # What a function-local "from sequences.tasks import ..." in the engine used to be.
    graph.add_import(importer="sequences.engine.send", imported="sequences.tasks")
    # And an app reaching up: senders knowing of sequences.
    graph.add_import(importer="senders.services", imported="sequences.models")

    assert any("sequences.tasks" in group for group in circles(graph))
    assert {(d.importer, d.imported) for d in upward_imports(graph)} == {("senders", "sequences")}


def test_the_contracts_in_pyproject_hold():
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "broken" in answer.stdout and " 0 broken" in answer.stdout


def test_only_the_tasks_modules_hand_work_to_celery():
    handing_out = sorted(
        str(path.relative_to(ROOT))
        for package in PRODUCT[:-1]
        for path in (ROOT / package).rglob("*.py")
        if path.name != "tasks.py"
        and "migrations" not in path.parts
        and re.search(r"\.(delay|apply_async)\(", path.read_text())
    )
    assert handing_out == []


def test_nothing_a_tasks_module_imports_imports_it_back():
    graph = product_graph()
    for tasks in sorted(m for m in graph.modules if m.endswith(".tasks")):
        below = graph.find_upstream_modules(tasks)
        assert not any(graph.direct_import_exists(importer=m, imported=tasks) for m in below), tasks
