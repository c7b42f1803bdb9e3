"""Slurm's GPU TRES (gres/gpuutil, gres/gpumem) in the efficiency figures, where no in-job sample
measured a GPU. The local cluster has no NVML plugin: the sacct output is a CONSTRUCTED fixture in
Slurm's exact --parsable2 format (see tests/data/constructed/README.md), not a recording."""

import shutil
from pathlib import Path

from tritonml_lab.metrics.efficiency import GIB, with_slurm_gpus
from tritonml_lab.metrics.report import Report, after_the_end, report_lines
from tritonml_lab.metrics.stream import job_summary
from tritonml_lab.slurm.parse import sacct_efficiency, tres_value

DATA = Path(__file__).parent / "data"
CONSTRUCTED = DATA / "constructed" / "sacct-gpu-tres.parsable2.CONSTRUCTED.txt"
TRACE = DATA / "gpu-traces" / "h200-matmul-phases.nvml.jsonl"
# The same job as the local cluster's sacct prints it (no GPU TRES): recorded here, Slurm 22.05.
LOCAL = (
    "5403|COMPLETED|10|00:17.477|2|2000M||5|billing=2,cpu=2,mem=2000M,node=2||\n"
    "5403.batch|COMPLETED|10|00:00.012|1||33892K||cpu=1,mem=1000M,node=1|cpu=00:00:00,energy=0,"
    "fs/disk=1961994,mem=33892K,pages=0,vmem=387428K|cpu=00:00:00,energy=0,fs/disk=1961994,mem=33892K,"
    "pages=0,vmem=387428K\n"
)


class FakeSlurm:
    """Stands in for SlurmClient.efficiency only: it returns what the parser makes of a fixture."""

    def __init__(self, text):
        self.text = text

    async def efficiency(self, job_id):
        return sacct_efficiency(self.text)


def test_parse_gpu_tres_of_the_busiest_step():
    figures = sacct_efficiency(CONSTRUCTED.read_text())
    assert figures["complete"] and figures["gpus"] == "h100:2"
    assert figures["gpu_util_mean"] == 14.0 and figures["gpu_util_max"] == 100.0
    assert figures["gpu_memory_peak_bytes"] == 10240 * (1 << 20)
    assert figures["memory_peak_bytes"] == 10372780 * 1024  # the job's own figures are unchanged
    assert round(figures["cpu_efficiency"], 3) == round(4212 / 28800, 3)
    assert tres_value("cpu=00:01:00,gres/gpuutil=43,mem=1K", "gres/gpuutil") == "43"
    assert tres_value("gres/gpumem=1G", "gres/gpu") is None


def test_no_gpu_tres_on_a_site_without_them():
    figures = sacct_efficiency(LOCAL)
    assert figures["complete"]
    assert figures["gpu_util_mean"] is None and figures["gpu_memory_peak_bytes"] is None
    assert with_slurm_gpus(None, figures) is None


async def test_slurm_tres_fill_in_when_there_are_no_samples(tmp_path):
    report = await after_the_end(FakeSlurm(CONSTRUCTED.read_text()), "7001234", job_summary(tmp_path))
    m = report.metrics
    assert m["gpu_source"] == "sacct" and len(m["gpus"]) == 1
    gpu = m["gpus"][0]
    assert gpu["util_mean"] == 14.0 and gpu["count"] == 2 and gpu["memory_peak_bytes"] == 10 * GIB
    assert any(a.startswith("The GPUs were busy only 14%") for a in report.advice), report.advice
    text = "\n".join(report_lines(report))
    assert "GPU utilisation: 14% mean, max 100%" in text
    assert "from Slurm's accounting" in text and "CPU efficiency: 15%" in text


async def test_samples_are_preferred_over_slurm_tres(tmp_path):
    shutil.copy(TRACE, tmp_path / "samples.gpu1.jsonl")
    report = await after_the_end(FakeSlurm(CONSTRUCTED.read_text()), "7001234", job_summary(tmp_path))
    assert report.metrics["gpu_source"] == "samples"
    assert report.metrics["gpus"][0]["name"] == "NVIDIA H200"
    assert "in-job samples, nvml" in "\n".join(report_lines(report))


async def test_incomplete_accounting_gives_no_figures(tmp_path):
    # slurmdbd a moment after the end: no time limit yet and ReqMem "0n"
    text = "7|COMPLETED|3|00:00.010|1|0n||||\n"
    report = await after_the_end(FakeSlurm(text), "7", None)
    assert report == Report(None, None, [])
