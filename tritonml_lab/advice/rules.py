"""The advice rules: one set, used after the end (``advise``), while the job runs (``live.py``) and
for the suggested resources (``suggest.py``), so that the three never contradict each other.

``usage_of`` reduces the in-job samples' summary (``metrics.efficiency.summarize``), sacct's figures
(``slurm.efficiency.sacct_efficiency``) and the job's spec to one flat ``Usage``; ``findings`` turns
it into ``Finding``s with a level ("red" or "low", as jobstats colours its notes; "state" for how the
job ended), the sentence shown to the user, the spec field it concerns and the value to ask for.
The sentences avoid tense so that a live notification and the finished job's advice read alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .sizes import GIB, MIB, format_size, format_time, human_size, round_size, round_time
from .thresholds import DEFAULT, Thresholds

IDLE_UTIL = 5.0  # % under which a sample counts as idle (as metrics.efficiency.summarize counts)
# --profile (issue 25): a profile whose steps spent this share or more in DataLoader __next__ shows a
# starved pipeline for certain (the H200 starved trace: 58 %; fed: 0 %).
DATA_WAIT_SHARE = 0.25


@dataclass
class Usage:
    """What a job asked for and used; None where unknown."""

    cpus: Optional[int] = None  # CPUs allocated to the whole job
    tasks: int = 1  # tasks of the job (nodes x tasks per node): --cpus-per-task is per task
    cores_used: Optional[float] = None  # mean CPU cores busy, whole job
    memory_requested: Optional[int] = None  # bytes, per node
    memory_peak: Optional[int] = None  # bytes, largest node
    time_limit: Optional[float] = None  # seconds
    elapsed: Optional[float] = None  # seconds
    state: Optional[str] = None  # Slurm state; None while running
    gpus_requested: Optional[str] = None  # the spec's --gpus ("h100:4", "2")
    gpus: list[dict[str, Any]] = field(default_factory=list)  # per GPU: index, node, util_mean, ...
    nodes: int = 1  # nodes of the job: a multi-node job keeps a GPU count that splits over them
    warn: Optional[float] = None  # seconds: checkpoint.warn, a limit must stay longer than it
    busy_procs: Optional[float] = None  # mean count of the job's processes each near a full core
    io_wait: Optional[float] = None  # mean % of time stalled on I/O (pressure stall information)
    data_wait: Optional[float] = None  # share of the profiled steps' time waiting for data (--profile)

    @property
    def gpu_count(self) -> int:
        return len(self.gpus)


@dataclass
class Finding:
    code: str  # gpu-unused, gpu-starved, gpu-io-wait, gpu-idle, gpu-util, gpu-memory, gpu-memory-full,
    # cpu, memory, memory-oom, time, timeout, oom
    level: str  # "red" | "low" | "state"
    text: str
    field: Optional[str] = None  # the JobSpec field it concerns
    to: Optional[Any] = None  # the value to ask for instead, where there is one
    figure: str = ""  # the measurement behind it, short


def usage_of(metrics: Optional[dict], efficiency: Optional[dict], spec: Any = None,
             data_wait: Optional[float] = None) -> Usage:
    """One ``Usage`` from the samples summary, sacct's figures and the spec (any may be None).
    Samples win for CPU (whole-job cores at 1 Hz) and GPUs; sacct for what was allocated."""
    m, e = metrics or {}, efficiency or {}
    if data_wait is None:  # a --profile job's detail carries it in its samples summary
        data_wait = m.get("data_wait_share")
    cpus = e.get("cpus")
    if cpus is None and spec is not None and spec.cpus_per_task:
        cpus = spec.cpus_per_task * _tasks(spec)
    cores = m.get("cpu_cores_mean")
    if cores is None and e.get("cpu_used_seconds") is not None and e.get("elapsed_seconds"):
        cores = e["cpu_used_seconds"] / e["elapsed_seconds"]
    peaks = [p for p in (e.get("memory_peak_bytes"), m.get("rss_peak_bytes")) if p is not None]
    requested = e.get("memory_requested_bytes")
    if requested is None and spec is not None and spec.mem:
        requested = _spec_bytes(spec.mem)
    limit = e.get("time_limit_seconds")
    if limit is None and spec is not None and spec.time:
        from ..slurm.timefmt import parse_duration

        limit = parse_duration(spec.time)
    elapsed = e.get("elapsed_seconds")
    if elapsed is None and m.get("seconds"):
        elapsed = m["seconds"]
    gpus = [g for g in m.get("gpus") or [] if g.get("util_mean") is not None or g.get("memory_peak_bytes") is not None]
    return Usage(
        cpus=cpus, tasks=_tasks(spec) if spec is not None else 1, cores_used=cores,
        memory_requested=requested, memory_peak=max(peaks) if peaks else None,
        time_limit=limit, elapsed=elapsed, state=e.get("state"),
        gpus_requested=getattr(spec, "gpus", None), gpus=gpus,
        busy_procs=m.get("cpu_busy_procs_mean"), io_wait=m.get("io_wait_mean"),
        nodes=getattr(spec, "nodes", None) or 1,
        warn=getattr(getattr(spec, "checkpoint", None), "warn_seconds", None), data_wait=data_wait,
    )


def findings(u: Usage, t: Thresholds = DEFAULT, *, live: bool = False, any_length: bool = False) -> list[Finding]:
    """Every rule over ``u``. ``live``: only what can be said while the job runs, red flags only
    (the live advisor passes the last window's figures). ``any_length``: also for jobs shorter
    than ``t.min_seconds`` (the suggestion; notes skip them, as jobstats does)."""
    out: list[Finding] = []
    if not live:
        out += _state(u)
    if not live and not any_length and u.elapsed is not None and u.elapsed < t.min_seconds:
        return out
    out += _gpus(u, t)
    cpu = _cpu(u, t)
    starved = any(f.code in ("gpu-starved", "gpu-io-wait") for f in out)
    if cpu is not None and not starved:
        out.append(cpu)
    out += _memory(u, t, live)
    if not live:
        out += _time(u, t)
    if live:
        out = [f for f in out if f.level == "red"]
    return out


def advise(u: Usage, t: Thresholds = DEFAULT) -> list[str]:
    """The sentences shown after the end."""
    return [f.text for f in findings(u, t)]


# -- the rules -----------------------------------------------------------------------------------
def _state(u: Usage) -> list[Finding]:
    if u.state == "TIMEOUT":
        return [Finding("timeout", "state", "The job hit its time limit: ask for more --time, or let it "
                        "checkpoint and come back: --warn 5m --requeue 3 (tritonml.should_checkpoint(), "
                        "tritonml.requeue(); see Long jobs in the user guide).", "time")]
    if u.state == "OUT_OF_MEMORY":
        return [Finding("oom", "state", "The job ran out of memory: ask for more --mem (or a smaller "
                        "batch size).", "mem")]
    return []


def _cpu_saturated(u: Usage) -> bool:
    return bool(u.cpus and u.cores_used is not None and u.cores_used >= 0.85 * u.cpus)


def _gpus(u: Usage, t: Thresholds) -> list[Finding]:
    out: list[Finding] = []
    measured = [g for g in u.gpus if g.get("util_mean") is not None]
    n = len(measured)
    unused = [g for g in measured if (g.get("idle_fraction") or 0) >= 0.999 or g["util_mean"] < 1]
    if n > 1 and unused:
        keep = n - len(unused) or 1
        names = ", ".join(_gpu_name(g, u) for g in unused)
        was = "was" if len(unused) == 1 else "were"
        if u.nodes > 1:  # a count that splits over the nodes (DDP runs one task per GPU)
            keep = -(-keep // u.nodes) * u.nodes
        if keep >= n:
            out.append(Finding(
                "gpu-unused", "red",
                f"{names} of {n} {was} idle the whole time: make your code use all of them (over "
                f"{u.nodes} nodes the GPUs come in multiples of {u.nodes}), or run on fewer nodes.",
                "gpus", None, f"{len(unused)} of {n} GPUs idle"))
        else:
            out.append(Finding(
                "gpu-unused", "red",
                f"{names} of {n} {was} idle the whole time: ask for "
                f"{keep} GPU{'s' if keep > 1 else ''} (or make your code use all of them).",
                "gpus", _gpus_with_count(u.gpus_requested, keep),
                f"{len(unused)} of {n} GPUs idle"))
    for g in measured:
        if g in unused and n > 1:
            continue
        who = _gpu_name(g, u) if n > 1 else "The GPU" if (g.get("count") or 1) == 1 else "The GPUs"
        was = "were" if who == "The GPUs" else "was"
        idle, util = g.get("idle_fraction") or 0.0, g["util_mean"]
        held = g.get("memory_peak_bytes")
        holds = held is not None and held >= t.gpu_memory_held_mib * MIB  # a CUDA context at least
        # no memory held (no CUDA context): CPU work in a GPU job, not a GPU waiting for its data
        waits = _waiting_for_data(u, t, util, idle) if held is None or holds else False
        if waits == "io":
            out.append(Finding(
                "gpu-io-wait", "red" if util < t.gpu_starved_util else "low",
                f"{who} {was} busy only {util:.0f}% on average while the job waited on file reads "
                f"{u.io_wait:.0f}% of the time: the data cannot be read fast enough. Copy the data set to "
                "the node's local disk ($TMPDIR) at the start, or pack many small files into a few large "
                "ones (tar, HDF5, WebDataset), and give the DataLoader more num_workers.",
                None, None, f"GPU {util:.0f}%, I/O wait {u.io_wait:.0f}%"))
        elif waits:
            per_task = max(1, (u.cpus or 1) // max(1, u.tasks))
            cpus_to = per_task * 2
            busy = (f"{u.busy_procs:.1f} processes (the DataLoader workers) each kept a core busy"
                    if u.busy_procs is not None and u.busy_procs >= t.starved_busy_procs else "the CPU was saturated"
                    if _cpu_saturated(u) else "the training loop waited for its batches")
            cores = f" ({u.cores_used:.1f} of {u.cpus} cores)" if u.cores_used is not None and u.cpus else ""
            profiled = _profiled_wait(u)
            out.append(Finding(
                "gpu-starved", "red" if util < t.gpu_starved_util or idle >= t.gpu_idle_share or profiled else "low",
                f"{who} {was} busy only {util:.0f}% on average (idle {idle:.0%} of the time) while {busy}"
                f"{cores}{profiled}: the data pipeline cannot keep up. Ask for "
                f"--cpus-per-task={cpus_to} and set DataLoader(num_workers={cpus_to - 1}, pin_memory=True, "
                "persistent_workers=True), or move the augmentation to the GPU (torchvision.transforms.v2 "
                "on GPU tensors, or NVIDIA DALI).",
                "cpus_per_task", cpus_to,
                f"GPU {util:.0f}%" + (f", CPU {u.cores_used:.1f} of {u.cpus} cores" if cores else "")
                + (f", {u.busy_procs:.1f} busy processes" if u.busy_procs is not None else "")
                + (f", {u.data_wait:.0%} of step time waiting for data" if profiled else "")))
        elif idle >= t.gpu_idle_share and holds:
            out.append(Finding(
                "gpu-idle", "red",
                f"{who} {was} idle {idle:.0%} of the time while holding {human_size(held)} of its memory: the "
                "program set it up, then waited (on input, a slow read, a lock or a sleep). Find what it "
                "waits for (py-spy dump, or the job's log), or release the GPU while it waits.",
                "gpus", None, f"idle {idle:.0%}, {human_size(held)} held"))
        elif idle >= t.gpu_idle_share:
            out.append(Finding(
                "gpu-idle", "red",
                f"{who} {was} idle {idle:.0%} of the time: check that the work runs on the GPU, or use a CPU "
                "partition if it does not need one.", "gpus", None, f"idle {idle:.0%}"))
        elif (util <= t.gpu_util_red or util < t.gpu_util_low) and holds:
            out.append(Finding(
                "gpu-util", "red" if util <= t.gpu_util_red else "low",
                f"{who} {was} busy only {util:.0f}% on average while holding {human_size(held)}: the work is "
                "too small to fill it, or it waits between steps. Try a larger batch size (or several "
                "runs on one GPU), fewer host-device syncs (.item() and prints in the loop), or a smaller GPU.",
                "gpus", None, f"{util:.0f}% mean utilisation, {human_size(held)} held"))
        elif util <= t.gpu_util_red or util < t.gpu_util_low:
            out.append(Finding(
                "gpu-util", "red" if util <= t.gpu_util_red else "low",
                f"{who} {was} busy only {util:.0f}% on average: check that the work runs on the GPU, or use "
                "a CPU partition if it does not need one.", "gpus", None, f"{util:.0f}% mean utilisation"))
        card = g.get("memory_total_bytes")
        if held is not None and card and held >= t.gpu_memory_full_share * card:
            out.append(Finding(
                "gpu-memory-full", "red" if u.state in (None, "FAILED") else "low",
                f"{who} memory reached {held / card:.0%} of the card ({human_size(held)} of {human_size(card)}): "
                "at the edge of CUDA out of memory (unless a framework reserves the whole card, as TensorFlow "
                "does by default). Use a smaller batch size (with gradient accumulation), "
                "bf16 autocast or activation checkpointing, free tensors you keep (a list of losses: "
                ".item()), or ask for a GPU with more memory.", None, None,
                f"{human_size(held)} of {human_size(card)}"))
        peak, card = g.get("memory_peak_bytes"), g.get("memory_total_bytes")
        if peak is not None and holds and card and peak < 0.25 * card and card >= 40 * GIB:
            out.append(Finding(
                "gpu-memory", "low",
                f"{who} memory peaked at {human_size(peak)} of {human_size(card)}: a smaller GPU would do "
                "and may start sooner.", None, None, f"{human_size(peak)} of {human_size(card)}"))
    return out


def _waiting_for_data(u: Usage, t: Thresholds, util: float, idle: float) -> Any:
    """"io", True or False: does this GPU wait for its data? I/O: the job stalled on reads a large
    share of the time. CPU: the old rule (idle 40 % while the CPU was saturated) or what a starved
    DataLoader looks like on a real GPU (issue 25's H200 traces): the GPU holds memory (so the model is
    there), its utilisation is low, and two or more of the job's processes each keep a core busy
    while the job's CPU is mostly used. The main process waits on the workers' queue, so the CPU
    rarely reaches 85 %: the busy workers are the sign."""
    if _profiled_wait(u):  # the profile saw the loop wait for the DataLoader: certain
        return "io" if u.io_wait is not None and u.io_wait >= t.io_wait_share * 100 else True
    if util >= t.gpu_starved_util and idle < 0.4:
        return False
    if u.io_wait is not None and u.io_wait >= t.io_wait_share * 100:
        return "io"
    if idle >= 0.4 and _cpu_saturated(u):
        return True
    return bool(u.busy_procs is not None and u.busy_procs >= t.starved_busy_procs and u.cpus
                and u.cores_used is not None and u.cores_used >= t.starved_cpu_share * u.cpus)


def _profiled_wait(u: Usage) -> str:
    """What the profile (--profile) says of the wait for data, when it shows a starved pipeline."""
    if u.data_wait is None or u.data_wait < DATA_WAIT_SHARE:
        return ""
    return f"; the profile found {u.data_wait:.0%} of each training step spent waiting for the DataLoader"


def _cpu(u: Usage, t: Thresholds) -> Optional[Finding]:
    if not u.cpus or u.cores_used is None or u.cpus < 2:
        return None
    share = u.cores_used / u.cpus
    if share >= t.cpu_efficiency_low:
        return None
    per_task = max(1, round(u.cores_used * (1 + t.cpu_headroom) / max(1, u.tasks)))
    if per_task * u.tasks >= u.cpus:
        return None
    used = max(1, round(u.cores_used)) if u.cores_used >= 0.5 else u.cores_used
    used_text = f"{used:.1f}" if isinstance(used, float) else str(used)
    return Finding(
        "cpu", "red" if share < t.cpu_efficiency_red else "low",
        f"Used about {used_text} of {u.cpus} requested CPU cores ({share:.0%}): "
        f"ask for --cpus-per-task={per_task}.",
        "cpus_per_task", per_task, f"{u.cores_used:.2f} of {u.cpus} cores")


def _memory(u: Usage, t: Thresholds, live: bool) -> list[Finding]:
    req, peak = u.memory_requested, u.memory_peak
    if not req or peak is None:
        return []
    share = peak / req
    if share >= t.memory_oom_share:
        to = round_size(peak * t.memory_margin)
        return [Finding(
            "memory-oom", "red",
            f"Memory at {share:.0%} of the {human_size(req)} requested: likely to be killed for out of "
            f"memory; ask for --mem={format_size(to)}.", "mem", format_size(to),
            f"{human_size(peak)} of {human_size(req)}")]
    if live or share >= t.memory_low:
        return []
    to = round_size(peak * t.memory_margin)
    if to >= req:
        return []
    return [Finding(
        "memory", "low",
        f"Peak memory {human_size(peak)} of {human_size(req)} requested ({share:.0%}): "
        f"--mem={format_size(to)} would do.", "mem", format_size(to),
        f"{human_size(peak)} of {human_size(req)}")]


def _time(u: Usage, t: Thresholds) -> list[Finding]:
    limit, used = u.time_limit, u.elapsed
    if not limit or used is None or u.state not in (None, "COMPLETED"):
        return []  # a failed or cancelled job's run time says nothing of what it needs
    share = used / limit
    if share >= t.time_low:
        return []
    to = round_time(used * t.time_margin, t.min_time_minutes)
    if u.warn:  # the warning must come before the limit: leave it at least its own length of work
        to = max(to, round_time(2 * u.warn, t.min_time_minutes))
    if to >= limit:
        return []
    return [Finding(
        "time", "red" if share < t.time_red else "low",
        f"Ran {_duration(used)} of its {_duration(limit)} limit ({share:.0%}): --time={format_time(to)} "
        "would do, and shorter jobs start sooner.", "time", format_time(to),
        f"{_duration(used)} of {_duration(limit)}")]


# -- helpers -------------------------------------------------------------------------------------
def _gpu_name(g: dict, u: Usage) -> str:
    nodes = {x.get("node") for x in u.gpus}
    return f"GPU {g.get('index')}" + (f" ({g.get('node')})" if len(nodes) > 1 and g.get("node") else "")


def _gpus_with_count(requested: Optional[str], count: int) -> str:
    kind, sep, _n = (requested or "").rpartition(":")
    return f"{kind}:{count}" if sep and kind else str(count)


def _tasks(spec: Any) -> int:
    return (getattr(spec, "nodes", None) or 1) * (getattr(spec, "ntasks_per_node", None) or 1)


def _spec_bytes(text: str) -> Optional[int]:
    from ..slurm.efficiency import size_bytes

    value = size_bytes(text if text[-1:].isalpha() else text + "M")  # sbatch: a bare number is MB
    return value


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")


__all__ = ["Finding", "Usage", "advise", "findings", "usage_of"]


def profile_advice(u: Usage, t: Thresholds = DEFAULT) -> list[str]:
    """The Profile section's advice (issue 25): the starved-pipeline finding where the profile's
    ``u.data_wait`` shows one (with the samples' GPU figures where there are some), else nothing."""
    if not _profiled_wait(u):
        return []
    texts = [f.text for f in _gpus(u, t) if f.code in ("gpu-starved", "gpu-io-wait")]
    if texts:
        return texts
    per_task = max(1, (u.cpus or 1) // max(1, u.tasks))
    return [f"The profile found {u.data_wait:.0%} of each training step spent waiting for the DataLoader: "
            f"the data pipeline cannot keep up. Ask for --cpus-per-task={per_task * 2} and set "
            f"DataLoader(num_workers={per_task * 2 - 1}, pin_memory=True, persistent_workers=True), or move "
            "the augmentation to the GPU."]
