"""The rule of tritonml_lab/injob/: every file there runs as a plain script in a job whose Python may
lack tritonml-lab, so none imports this package, and each stdlib-only one starts under `python -I -S`."""

import ast
import subprocess
import sys

import pytest

from tritonml_lab import injob

STDLIB_ONLY = (injob.RUNNER, injob.SWEEP_SHIM, injob.SAMPLER)


@pytest.mark.parametrize("path", injob.ALL, ids=lambda p: p.name)
def test_no_in_job_file_imports_the_package(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            assert not (node.module or "").startswith("tritonml_lab"), path.name
        elif isinstance(node, ast.Import):
            assert not any(alias.name.startswith("tritonml_lab") for alias in node.names), path.name


@pytest.mark.parametrize("path", STDLIB_ONLY, ids=lambda p: p.name)
def test_stdlib_only_files_load_in_an_isolated_python(path):
    # -I -S: no site-packages, no user site, no PYTHONPATH: what a bare job Python has.
    code = f"import runpy; runpy.run_path({str(path)!r}, run_name='injob_check')"
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_copy_into_names_the_file_as_the_job_expects(tmp_path):
    target = injob.copy_into(injob.RUNNER, tmp_path, "main.py")
    assert target == tmp_path / "main.py" and target.read_bytes() == injob.RUNNER.read_bytes()
