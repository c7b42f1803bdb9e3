"""The shape of the in-job samples' summary (``stream.job_summary``, ``efficiency.with_slurm_gpus``).

TypedDicts: the summary stays a plain dict everywhere; these only describe it for the API schema
(``JobDetail.metrics``) and the generated TypeScript types.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import ConfigDict, with_config
from typing_extensions import NotRequired, TypedDict


@with_config(ConfigDict(extra="allow"))
class GpuFigures(TypedDict):
    node: Optional[str]  # None for the one entry from Slurm's GPU TRES (gpu_source "sacct")
    index: Optional[int]
    name: Optional[str]
    count: NotRequired[Optional[int]]  # the Slurm entry: GPUs summed over types
    util_mean: Optional[float]
    util_max: Optional[float]
    idle_fraction: Optional[float]
    memory_peak_bytes: Optional[int]
    memory_total_bytes: Optional[int]


@with_config(ConfigDict(extra="allow"))
class MetricsSummary(TypedDict):
    """Per GPU (and node) utilisation and memory peak, CPU cores summed over the nodes, the largest
    node's resident memory. After the end, ``gpu_source`` says where the GPU figures come from."""

    source: Optional[Literal["nvml", "nvidia-smi", "none"]]
    seconds: float
    gpus: list[GpuFigures]
    cpu_cores_mean: Optional[float]
    cpu_cores_max: NotRequired[Optional[float]]
    rss_peak_bytes: Optional[int]
    gpu_source: NotRequired[Optional[Literal["samples", "sacct"]]]
    # Jobs run with --profile: the share of step time spent waiting for data (jobs/profile.py).
    data_wait_share: NotRequired[Optional[float]]
