"""The tour (binder/Tour.ipynb) runs top to bottom, as a researcher runs it: in a kernel that a Jupyter
server with tritonml-lab started (so with the environment the server exports), against the real
local cluster, with the shared-data sample as its catalog. Any cell that errors fails the test."""

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tritonml_lab.tests.sample_tree import generate_sample

BINDER = Path(__file__).resolve().parents[2] / "binder"
TOUR_FILES = ("Tour.ipynb", "tour-train.ipynb")

pytestmark = [pytest.mark.usefixtures("slurm_cluster"), pytest.mark.timeout(400)]


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path):
    dldata = tmp_path / "dldata"
    generate_sample(str(dldata))
    jp_server_config["TritonML"].update(catalog_roots=[f"dldata={dldata}"], catalog_scan_workers=0)
    return jp_server_config


def cell_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", "") or "".join(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


async def test_the_tour_runs_top_to_bottom_in_a_server_kernel(jp_serverapp, jp_root_dir, capsys):
    for name in TOUR_FILES:
        shutil.copy(BINDER / name, jp_root_dir / name)
    km = jp_serverapp.kernel_manager
    kernel_id = await km.start_kernel(path="")  # in the root dir, next to the notebooks
    nb = nbformat.read(jp_root_dir / "Tour.ipynb", as_version=4)
    client = NotebookClient(nb, km=km.get_kernel(kernel_id), timeout=150, allow_errors=False)
    started = time.monotonic()
    try:
        await client.async_execute()
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        await km.shutdown_kernel(kernel_id, now=True)
    seconds = time.monotonic() - started
    nbformat.write(nb, jp_root_dir / "Tour.executed.ipynb")  # kept by pytest's tmp dir, for a look
    with capsys.disabled():
        print(f"\nTour.ipynb ran top to bottom in {seconds:.0f} s")

    by_id = {cell.id: cell for cell in nb.cells}
    assert "triton-dev, Slurm " in cell_text(by_id["tour-cluster"])
    assert "server: this kernel was started by a Jupyter server" in cell_text(by_id["tour-cluster"])
    assert "8 training shards" in cell_text(by_id["tour-catalog"])
    assert "Back in the notebook: score = 0.9" in cell_text(by_id["tour-score"])
    assert "Sweep " in cell_text(by_id["tour-sweep"]) and "4 COMPLETED" in cell_text(by_id["tour-sweep"])
    assert "Efficiency" in cell_text(by_id["tour-efficiency"]) or "efficiency" in cell_text(by_id["tour-efficiency"])
    executed = list(jp_root_dir.glob("tour-train.*.ipynb"))
    assert len(executed) == 1, executed
    out = nbformat.read(executed[0], as_version=4)
    assert "test accuracy" in cell_text(out.cells[-1])
