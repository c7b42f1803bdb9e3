"""The four rooms (ARCHITECTURE.md, "Rooms and the imports between them"): the package edges the code
has are exactly those the document lists, the core, ``kernel/`` and ``injob/`` never import ``server/``,
and importing the core loads no server module."""

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from .test_import_cycles import NAME, PACKAGE, imports_of, module_names

ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"
# Which room each top-level package or module is in; every other one is the shared core.
SERVER, KERNEL, INJOB = {"server"}, {"kernel", "magics", "widgets"}, {"injob"}


def package_of(module: str) -> str:
    parts = module.split(".")[1:]
    return parts[0] if parts else ""


def room_of(package: str) -> str:
    return ("server" if package in SERVER else "kernel" if package in KERNEL
            else "injob" if package in INJOB else "core")


def actual_edges() -> dict[str, set[str]]:
    """package -> the packages its modules import (any import but TYPE_CHECKING's; the top
    ``__init__`` is only Jupyter's lazy entry points and ``__version__``)."""
    known = module_names()
    edges = defaultdict(set)
    for name, path in known.items():
        source = package_of(name)
        if name == NAME or source == "_version":
            continue
        for target in imports_of(name, path, known):
            target_package = package_of(target)
            if target_package not in (source, "_version", ""):
                edges[source].add(target_package)
    return edges


def documented_edges() -> dict[str, set[str]]:
    text = ARCHITECTURE.read_text()
    block = re.search(r"<!-- allowed package edges -->\s*```\n(.*?)```", text, re.S)
    assert block, "ARCHITECTURE.md lost its block of allowed package edges"
    edges = defaultdict(set)
    for line in block.group(1).splitlines():
        if "->" in line:
            source, _, targets = line.partition("->")
            edges[source.strip().rstrip("/")] |= {t.strip().rstrip("/") for t in targets.split(",") if t.strip()}
    return edges


def test_the_code_has_exactly_the_documented_package_edges():
    actual, documented = actual_edges(), documented_edges()
    undocumented = sorted(f"{a} -> {b}" for a in actual for b in actual[a] - documented.get(a, set()))
    stale = sorted(f"{a} -> {b}" for a in documented for b in documented[a] - actual.get(a, set()))
    assert undocumented == [], "imports ARCHITECTURE.md does not allow: add them there, or remove them"
    assert stale == [], "ARCHITECTURE.md lists edges the code no longer has"


def test_nothing_outside_the_server_room_imports_it():
    for source, targets in actual_edges().items():
        if room_of(source) != "server":
            assert "server" not in targets, f"{source} imports the server room"
    assert actual_edges()["injob"] == set()  # the in-job files run with the job's Python, without the package


def test_the_checker_sees_an_edge():
    assert "jobs" in actual_edges()["server"]


def loaded_by(statement: str) -> list[str]:
    code = f"import sys; {statement}; print('\\n'.join(m for m in sys.modules if m.startswith('{NAME}')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         cwd=str(Path(PACKAGE).parent))
    return out.stdout.split()


def test_importing_the_core_or_the_kernel_side_loads_no_server_module():
    spec = loaded_by("import tritonml_lab.jobs.spec")
    assert "tritonml_lab.jobs.spec" in spec
    assert [m for m in spec if m.startswith("tritonml_lab.server")] == []
    assert not [m for m in spec if m.split(".")[1:2] in (["advice"], ["metrics"], ["catalog"])], spec  # the core's own, too
    kernel = loaded_by("import tritonml_lab.magics")
    assert "tritonml_lab.kernel.submit" in kernel
    assert [m for m in kernel if m.startswith("tritonml_lab.server")] == []


def third_party_imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
    return found


def test_tornado_only_in_the_server_room_and_ipython_only_in_the_kernel_room():
    for name, path in module_names().items():
        room = room_of(package_of(name))
        imported = third_party_imports(path)
        if room != "server":
            assert "tornado" not in imported, name
        if room != "kernel":
            assert not imported & {"IPython", "ipywidgets"}, name
