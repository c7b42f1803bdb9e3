"""Pure parsers of real Slurm output (22.05 JSON = OpenAPI v0.0.38, plus a few text formats).

Tested on recorded output in tests/data/slurm-22.05/. Where newer Slurm versions changed a field's
shape (numbers became ``{"set": true, "number": N}`` objects in 23.x), :func:`_num` accepts both.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Optional

from .errors import SlurmOutputError
from .gres import gpus_of
from .models import ClusterSummary, GpuCount, Job, JobState, Partition
from .timefmt import parse_duration


def _json(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SlurmOutputError(f"{what} did not print JSON ({exc}); is this Slurm 21.08 or newer?") from exc
    if not isinstance(data, dict):
        raise SlurmOutputError(f"{what} printed JSON of an unexpected shape")
    return data


def _num(value: Any) -> Optional[int]:
    """22.05 gives plain numbers; 23.02+ gives {"set": bool, "infinite": bool, "number": N}."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite"):
            return None
        value = value.get("number")
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _epoch(value: Any) -> Optional[float]:
    number = _num(value)
    return float(number) if number else None


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, list):  # 23.x: job_state is a list of flags
        value = value[0] if value else None
        if value is None:
            return None
    text = str(value).strip()
    return text or None


def _reason(value: Any) -> Optional[str]:
    text = _text(value)
    return None if text in (None, "None") else text


def _gpus_from_tres(tres: str | None) -> Optional[str]:
    """'gres:gpu:h100:1' / 'gres/gpu:h100=1' / 'gres/gpu=2' -> 'h100:1' / '2'."""
    if not tres:
        return None
    match = re.search(r"gres[:/]gpu(?::([\w.-]+))?[:=](\d+)", tres)
    if not match:
        return None
    kind, count = match.groups()
    return f"{kind}:{count}" if kind else count


def _array_ids(
    job_id: int, array_job_id: Any, array_task_id: Any
) -> tuple[str, Optional[str], Optional[str]]:
    parent = _num(array_job_id)
    task = _num(array_task_id)
    if parent and task is not None:
        return f"{parent}_{task}", str(parent), str(task)
    return str(job_id), None, None


# -- sbatch / scancel ------------------------------------------------------------------------------
def sbatch_job_id(stdout: str) -> str:
    """``sbatch --parsable`` prints ``ID`` or ``ID;CLUSTER``."""
    line = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    job_id = line.split(";", 1)[0].strip()
    if not job_id.isdigit():
        raise SlurmOutputError(f"sbatch printed no job id: {stdout.strip()!r}")
    return job_id


def is_already_finished_error(stderr: str) -> bool:
    """scancel of a job that ended: 'Job/step already completing or completed' / 'Invalid job id'."""
    return bool(re.search(r"already complet|Invalid job id specified", stderr, re.IGNORECASE))


def config_value(text: str, key: str) -> Optional[str]:
    """One value of ``scontrol show config`` ("ClusterName             = triton-dev")."""
    match = re.search(rf"^{re.escape(key)}\s*=\s*(.*?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


# -- squeue ----------------------------------------------------------------------------------------
def squeue_json(text: str) -> list[Job]:
    data = _json(text, "squeue --json")
    jobs = []
    for raw in data.get("jobs", []):
        job_id, parent, task = _array_ids(raw["job_id"], raw.get("array_job_id"), raw.get("array_task_id"))
        if parent is None and raw.get("array_task_string"):
            task = str(raw["array_task_string"])  # a pending array, not yet split: "0-9%2"
            parent = str(raw["job_id"])
        submitted, started, ended = (
            _epoch(raw.get("submit_time")),
            _epoch(raw.get("start_time")),
            _epoch(raw.get("end_time")),
        )
        state = JobState.parse(_text(raw.get("job_state")))
        gpus = (
            _gpus_from_tres(raw.get("tres_per_job"))
            or _gpus_from_tres(raw.get("tres_per_node"))
            or (
                _gpus_from_tres(raw.get("tres_alloc_str"))
                if state is not JobState.PENDING
                else _gpus_from_tres(raw.get("tres_req_str"))
            )
        )
        jobs.append(
            Job(
                id=job_id,
                name=raw.get("name") or "",
                state=state,
                reason=_reason(raw.get("state_reason")),
                partition=_text(raw.get("partition")),
                nodes=_text(raw.get("nodes")),
                node_count=_num(raw.get("node_count")),
                gpus=gpus,
                cpus=_num(raw.get("cpus")),
                user=_text(raw.get("user_name")),
                account=_text(raw.get("account")),
                submitted=submitted,
                # squeue reports a *planned* start/end for pending jobs; only a started job has a start.
                started=started if state is not JobState.PENDING else None,
                ended=ended if state.is_finished else None,
                expected_start=started if state is JobState.PENDING else None,
                time_limit=_num(raw.get("time_limit")),
                # squeue gives the raw wait status: exit code in the high byte, signal in the low.
                exit_code=(_num(raw.get("exit_code")) or 0) >> 8 if state.is_finished else None,
                signal=((_num(raw.get("exit_code")) or 0) & 0x7F) or None if state.is_finished else None,
                array_job_id=parent,
                array_task_id=task,
                workdir=_text(raw.get("current_working_directory")),
                stdout_path=_text(raw.get("standard_output")),
                stderr_path=_text(raw.get("standard_error")),
            )
        )
    return jobs


def squeue_start(text: str) -> dict[str, float]:
    """``squeue --start --format=%i|%S``: job id -> expected start (epoch); 'N/A' lines dropped."""
    starts = {}
    for line in text.splitlines():
        if "|" not in line:
            continue
        job_id, when = (part.strip() for part in line.split("|", 1))
        try:
            starts[job_id] = datetime.fromisoformat(when).timestamp()
        except ValueError:
            continue
    return starts


# -- sacct -----------------------------------------------------------------------------------------
def sacct_json(text: str) -> list[Job]:
    """Jobs from ``sacct --json``; of several records with one id (a requeued job, or ids reused
    after a controller reset) the most recently submitted wins."""
    data = _json(text, "sacct --json")
    jobs: dict[str, Job] = {}
    for raw in data.get("jobs", []):
        array = raw.get("array") or {}
        job_id, parent, task = _array_ids(raw["job_id"], array.get("job_id"), array.get("task_id"))
        times = raw.get("time") or {}
        state_info = raw.get("state") or {}
        state = JobState.parse(_text(state_info.get("current")))
        exit_info = raw.get("exit_code") or {}
        signal = (
            (exit_info.get("signal") or {}).get("signal_id")
            if isinstance(exit_info.get("signal"), dict)
            else None
        )
        allocated = (raw.get("tres") or {}).get("allocated") or []
        requested = (raw.get("tres") or {}).get("requested") or []
        nodes = _text(raw.get("nodes"))
        job = Job(
            id=job_id,
            name=raw.get("name") or "",
            state=state,
            reason=_reason(state_info.get("reason")),
            partition=_text(raw.get("partition")),
            nodes=None if nodes in ("None assigned",) else nodes,
            node_count=_tres_count(allocated, "node"),
            gpus=_tres_gpus(allocated) or _tres_gpus(requested),
            cpus=_tres_count(allocated, "cpu"),
            user=_text(raw.get("user")),
            account=_text(raw.get("account")),
            submitted=_epoch(times.get("submission")),
            started=_epoch(times.get("start")),
            ended=_epoch(times.get("end")),
            elapsed=_num(times.get("elapsed")),
            time_limit=_num(times.get("limit")),
            exit_code=_num(exit_info.get("return_code")) if state.is_finished else None,
            signal=_num(signal),
            array_job_id=parent,
            array_task_id=task,
            workdir=_text(raw.get("working_directory")),
        )
        previous = jobs.get(job_id)
        if previous is None or (job.submitted or 0) >= (previous.submitted or 0):
            jobs[job_id] = job
    return list(jobs.values())


def _tres_count(items: list[dict[str, Any]], kind: str) -> Optional[int]:
    for item in items:
        if item.get("type") == kind:
            return _num(item.get("count"))
    return None


def _tres_gpus(items: list[dict[str, Any]]) -> Optional[str]:
    total, typed = None, None
    for item in items:
        if item.get("type") != "gres":
            continue
        name = item.get("name") or ""
        if name == "gpu":
            total = _num(item.get("count"))
        elif name.startswith("gpu:"):
            typed = f"{name[4:]}:{_num(item.get('count'))}"
    return typed or (str(total) if total else None)


# -- sinfo -----------------------------------------------------------------------------------------
def cluster_summary(summary_text: str, nodes_json: str, cluster: Optional[str] = None) -> ClusterSummary:
    """Combine ``sinfo --summarize --format=%P|%a|%l|%F|%N`` with ``sinfo --json`` (nodes)."""
    nodes = _json(nodes_json, "sinfo --json").get("nodes", [])
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        for name in node.get("partitions") or []:
            by_partition.setdefault(name, []).append(node)

    partitions = []
    for line in summary_text.splitlines():
        fields = line.strip().split("|")
        if len(fields) < 5:
            continue
        raw_name, avail, limit, counts, _nodelist = fields[:5]
        name = raw_name.rstrip("*")
        members = by_partition.get(name, [])
        seconds = parse_duration(limit)
        gpus = _gpu_counts(members)
        partitions.append(
            Partition(
                name=name,
                default=raw_name.endswith("*"),
                time_limit=None if seconds is None else limit,
                time_limit_minutes=None if seconds is None else seconds // 60,
                nodes=sorted(n["name"] for n in members),
                node_count=_total_from_counts(counts, len(members)),
                state=avail.upper(),
                cpus_total=sum(_num(n.get("cpus")) or 0 for n in members),
                cpus_idle=sum(_num(n.get("idle_cpus")) or 0 for n in members if _node_usable(n)),
                gpus=gpus,
            )
        )
    cluster_gpus = _gpu_counts(nodes)
    return ClusterSummary(
        cluster=cluster,
        partitions=partitions,
        gpus=cluster_gpus,
        gpus_total=sum(g.total for g in cluster_gpus),
        gpus_free=sum(g.free for g in cluster_gpus),
    )


def _total_from_counts(counts: str, fallback: int) -> int:
    # %F is "allocated/idle/other/total".
    parts = counts.split("/")
    return int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else fallback


_UNUSABLE = ("down", "drain", "fail", "maint", "not_responding", "future", "power", "reboot", "unknown")


def _node_usable(node: dict[str, Any]) -> bool:
    words = [str(node.get("state") or "")] + [str(f) for f in node.get("state_flags") or []]
    return not any(bad in word.lower() for word in words for bad in _UNUSABLE)


def _gpu_counts(nodes: list[dict[str, Any]]) -> list[GpuCount]:
    """GPUs by type over ``nodes``; free = configured - used, on nodes that can take jobs."""
    totals: dict[Optional[str], list[int]] = {}
    for node in nodes:
        configured = gpus_of(node.get("gres"))
        used = gpus_of(node.get("gres_used"))
        usable = _node_usable(node)
        for kind, count in configured.items():
            entry = totals.setdefault(kind, [0, 0])
            entry[0] += count
            if usable:
                entry[1] += max(0, count - used.get(kind, used.get(None, 0) if kind is None else 0))
    return [
        GpuCount(type=k, total=v[0], free=v[1]) for k, v in sorted(totals.items(), key=lambda kv: str(kv[0]))
    ]


# -- efficiency (sacct --parsable2) -----------------------------------------------------------------
EFFICIENCY_FORMAT = (
    "JobID,State,ElapsedRaw,TotalCPU,AllocCPUS,ReqMem,MaxRSS,TimelimitRaw,AllocTRES,TRESUsageInAve,TRESUsageInMax"
)

_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}


def size_bytes(text: str | None) -> Optional[int]:
    """'1000M' / '3.5G' / '5120K' / '16000Mn' (per node) / '1000Mc' (per CPU) / '123' -> bytes."""
    if not text:
        return None
    match = re.fullmatch(r"([0-9.]+)([KMGTP]?)[nc]?", text.strip())
    if not match:
        return None
    number, unit = match.groups()
    return int(float(number) * _UNITS.get(unit, 1))


def cpu_seconds(text: str | None) -> Optional[float]:
    """sacct TotalCPU: '[DD-[HH:]]MM:SS[.mmm]' -> seconds."""
    if not text:
        return None
    days = 0
    if "-" in text:
        day, text = text.split("-", 1)
        days = int(day)
    parts = text.split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return days * 86400 + seconds


def tres_value(tres: str | None, name: str) -> Optional[str]:
    """One entry of a TRES list: tres_value("cpu=00:01:00,gres/gpuutil=43", "gres/gpuutil") -> "43"."""
    for item in (tres or "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    return None


def _gpu_tres(ave: str, peak: str, gpu: dict[str, Optional[float]]) -> None:
    """Fold one step's GPU TRES (gres/gpuutil in %, gres/gpumem a size; Slurm's gpu/nvml plugin,
    where AccountingStorageTRES lists them) into ``gpu``: the busiest step counts."""
    for key, text, field in (("util_mean", ave, "gres/gpuutil"), ("util_max", peak, "gres/gpuutil"),
                             ("memory_peak_bytes", peak, "gres/gpumem")):
        raw = tres_value(text, field)
        if raw is None:
            continue
        value = size_bytes(raw) if field == "gres/gpumem" else _float(raw)
        if value is not None:
            gpu[key] = value if gpu.get(key) is None else max(gpu[key], value)


def _float(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


def sacct_efficiency(text: str) -> dict[str, Any]:
    """Figures for one job (and its steps) from ``sacct --parsable2 --format=EFFICIENCY_FORMAT``.

    ``gpu_util_mean``/``gpu_util_max`` (%) and ``gpu_memory_peak_bytes`` are Slurm's GPU TRES of the
    busiest step (TRESUsageInAve/TRESUsageInMax gres/gpuutil and gres/gpumem, per task), or None
    where the site does not account them."""
    figures: dict[str, Any] = {}
    peak = None
    gpu: dict[str, Optional[float]] = {"util_mean": None, "util_max": None, "memory_peak_bytes": None}
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) < 9:
            continue
        job_id, state, elapsed, total_cpu, alloc_cpus, req_mem, max_rss, limit, tres = fields[:9]
        rss = size_bytes(max_rss)
        if rss is not None:
            peak = max(peak or 0, rss)
        if len(fields) >= 11:
            _gpu_tres(fields[9], fields[10], gpu)
        if "." in job_id:  # a step: only its memory peak and GPU usage matter here
            continue
        elapsed_s = int(elapsed) if elapsed.isdigit() else None
        cpus = int(alloc_cpus) if alloc_cpus.isdigit() else None
        used = cpu_seconds(total_cpu)
        figures.update(
            # A record slurmdbd has not finished writing has no time limit and "16?" as ReqMem.
            complete=limit.isdigit() and size_bytes(req_mem) is not None,
            state=JobState.parse(state).value,
            elapsed_seconds=elapsed_s,
            time_limit_seconds=int(limit) * 60 if limit.isdigit() else None,
            cpus=cpus,
            cpu_used_seconds=used,
            cpu_allocated_seconds=elapsed_s * cpus if elapsed_s is not None and cpus else None,
            memory_requested_bytes=size_bytes(req_mem),
            gpus=_gpus_from_tres(tres),
        )
    figures["memory_peak_bytes"] = peak
    figures["gpu_util_mean"] = gpu["util_mean"]
    figures["gpu_util_max"] = gpu["util_max"]
    memory = gpu["memory_peak_bytes"]
    figures["gpu_memory_peak_bytes"] = int(memory) if memory is not None else None
    alloc = figures.get("cpu_allocated_seconds")
    used = figures.get("cpu_used_seconds")
    figures["cpu_efficiency"] = round(used / alloc, 4) if alloc and used is not None else None
    limit_s, elapsed_s = figures.get("time_limit_seconds"), figures.get("elapsed_seconds")
    figures["time_fraction"] = round(elapsed_s / limit_s, 4) if limit_s and elapsed_s is not None else None
    requested = figures.get("memory_requested_bytes")
    figures["memory_fraction"] = round(peak / requested, 4) if peak is not None and requested else None
    return figures
