"""Suggested resources for running a job again: ``GET jobs/{id}/suggestion``, the "Resubmit with
these settings" button and ``%tritonml resubmit ID --suggested``.

The values come from the same rules as the advice (rules.py), applied whatever the job's length: a
change is made where a rule fires (too many cores, memory or time, idle GPUs, a starved GPU), and
each carries the rule's sentence as its reason and the measurement behind it. A resource without
data (no samples, sacct not complete yet) is None, not a guess.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from ..jobs.errors import InvalidRequest
from ..jobs.spec import Defaults, JobSpec, parse
from .rules import Finding, Usage, findings
from .thresholds import DEFAULT, Thresholds

RESOURCES = ("gpus", "cpus_per_task", "mem", "time")


class Change(BaseModel):
    """One resource: what was asked, what to ask for, why and the figure behind it."""

    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(description="the JobSpec field: gpus, cpus_per_task, mem or time")
    from_: Optional[str] = Field(None, alias="from", description="what the job asked for (None: the default)")
    to: Optional[str] = Field(None, description="what to ask for; equal to `from` when it is right as it is")
    changed: bool
    reason: str
    figure: str = Field("", description="the measurement behind it, e.g. '0.98 of 2 cores'")

    @model_serializer(mode="wrap")
    def _from_key(self, handler):  # "from" on the wire whatever the caller's by_alias (pydantic < 2.11)
        data = handler(self)
        if "from_" in data:
            data = {("from" if k == "from_" else k): v for k, v in data.items()}
        return data


class Suggestion(BaseModel):
    """``GET jobs/{id}/suggestion``: the spec to resubmit and each resource's verdict."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    spec: Optional[JobSpec] = Field(None, description="the original spec with the changes applied; None when "
                                    "the job was not submitted through tritonml-lab (no job directory)")
    changes: list[Change] = Field(default_factory=list, description="the resources that change")
    gpus: Optional[Change] = None
    cpus_per_task: Optional[Change] = None
    mem: Optional[Change] = None
    time: Optional[Change] = None
    source: str = Field("", description="where the figures come from: samples, sacct or both")
    note: Optional[str] = Field(None, description="why nothing can be suggested yet, when so")


def suggest(job_id: str, spec: Optional[JobSpec], usage: Usage, t: Thresholds = DEFAULT,
            source: str = "", defaults: Optional[Defaults] = None) -> Suggestion:
    """The suggestion for a finished job whose usage is ``usage`` (rules.usage_of)."""
    found: dict[str, Finding] = {}
    for f in findings(usage, t, any_length=True):  # per field the first with a value, else the first
        if f.field in RESOURCES and (f.field not in found or (found[f.field].to is None and f.to is not None)):
            found[f.field] = f
    parts: dict[str, Optional[Change]] = {
        "gpus": _gpus(spec, usage, found.get("gpus")),
        "cpus_per_task": _simple(spec, "cpus_per_task", usage.cpus is not None and usage.cores_used is not None,
                                 found.get("cpus_per_task"), _cpus_ok(usage)),
        "mem": _simple(spec, "mem", usage.memory_peak is not None and usage.memory_requested is not None,
                       found.get("mem"), _mem_ok(usage)),
        "time": _simple(spec, "time", usage.elapsed is not None and usage.time_limit is not None
                        and usage.state in (None, "COMPLETED", "TIMEOUT"), found.get("time"), _time_ok(usage)),
    }
    changes = [c for c in parts.values() if c is not None and c.changed]
    new_spec = None
    if spec is not None:
        new_spec, dropped = _apply(spec, changes, defaults)
        for c, why in dropped:  # a change the spec's own rules refuse: kept as it was, and why
            changes = [x for x in changes if x is not c]
            parts[c.field] = Change(field=c.field, from_=c.from_, to=c.from_, changed=False,
                                    reason=f"{c.reason} (Not applied: {why})", figure=c.figure)
    note = None
    if all(c is None for c in parts.values()):
        note = "No figures yet: the job's samples and Slurm's accounting have nothing to go by."
    return Suggestion(id=job_id, spec=new_spec, changes=changes, source=source, note=note, **parts)


def _apply(spec: JobSpec, changes: list[Change], defaults: Optional[Defaults] = None,
           ) -> tuple[JobSpec, list[tuple[Change, str]]]:
    """The spec with ``changes``, validated as POST jobs validates it: with the admin's ``defaults``
    first (a checkpoint warning is held to the site's default time when the spec names none). The
    changes are applied one by one; one that makes the spec invalid (the rules keep within the spec's
    own, so this is a last guard) is left out, with the validator's reason."""
    current = spec
    dropped: list[tuple[Change, str]] = []
    for c in changes:
        update: dict[str, Any] = {c.field: int(c.to) if c.field == "cpus_per_task" and c.to is not None else c.to}
        if c.field == "gpus" and spec.ddp and spec.ntasks_per_node and c.to:  # one task per GPU on each node
            update["ntasks_per_node"] = max(1, int(str(c.to).rpartition(":")[2]) // (spec.nodes or 1))
        try:
            current = parse(JobSpec, {**current.model_dump(exclude_unset=True), **update}, defaults)
        except InvalidRequest as exc:
            dropped.append((c, "; ".join(e["message"] for e in exc.fields)[:300]))
    return current, dropped


def _current(spec: Optional[JobSpec], name: str) -> Optional[str]:
    value = getattr(spec, name, None) if spec is not None else None
    return None if value is None else str(value)


def _simple(spec: Optional[JobSpec], name: str, has_data: bool, finding: Optional[Finding],
            ok_reason: str) -> Optional[Change]:
    if finding is not None and finding.to is not None:
        return Change(field=name, from_=_current(spec, name), to=str(finding.to), changed=True,
                      reason=finding.text, figure=finding.figure)
    if finding is not None:  # a rule with a sentence but no value (timeout, out of memory)
        return Change(field=name, from_=_current(spec, name), to=_current(spec, name), changed=False,
                      reason=finding.text, figure=finding.figure)
    if not has_data:
        return None
    return Change(field=name, from_=_current(spec, name), to=_current(spec, name), changed=False, reason=ok_reason)


def _gpus(spec: Optional[JobSpec], u: Usage, finding: Optional[Finding]) -> Optional[Change]:
    if not u.gpus:
        return None
    current = _current(spec, "gpus") or u.gpus_requested
    if finding is not None and finding.to is not None:
        return Change(field="gpus", from_=current, to=str(finding.to), changed=current != str(finding.to),
                      reason=finding.text, figure=finding.figure)
    if finding is not None:
        return Change(field="gpus", from_=current, to=current, changed=False, reason=finding.text,
                      figure=finding.figure)
    return Change(field="gpus", from_=current, to=current, changed=False, reason="Every GPU was busy.")


def _cpus_ok(u: Usage) -> str:
    if u.cores_used is None or not u.cpus:
        return ""
    return f"Used {u.cores_used:.1f} of {u.cpus} CPU cores: keep."


def _mem_ok(u: Usage) -> str:
    if u.memory_peak is None or not u.memory_requested:
        return ""
    return f"Peak memory {u.memory_peak / u.memory_requested:.0%} of the request: keep."


def _time_ok(u: Usage) -> str:
    if u.elapsed is None or not u.time_limit:
        return ""
    return f"Used {u.elapsed / u.time_limit:.0%} of the time limit: keep."


def suggestion_of(job_id: str, spec: Optional[JobSpec], metrics: Optional[dict], efficiency: Optional[dict],
                  t: Thresholds = DEFAULT, state: Any = None, defaults: Optional[Defaults] = None) -> Suggestion:
    """From what ``GET jobs/{id}`` holds: the spec (job directory), the samples summary and sacct's
    figures (None until the job ended and slurmdbd has its record)."""
    from .rules import usage_of

    usage = usage_of(metrics, efficiency, spec)
    if efficiency is None:
        usage.time_limit = usage.elapsed = None  # no time figure before sacct has the end
    has_samples = bool(metrics and (metrics.get("cpu_cores_mean") is not None or metrics.get("gpus")))
    source = "+".join(name for name, ok in (("samples", has_samples), ("sacct", efficiency is not None)) if ok)
    result = suggest(job_id, spec, usage, t, source=source, defaults=defaults)
    value = getattr(state, "value", state)
    if efficiency is None and value in ("RUNNING", "PENDING", "CONFIGURING", "COMPLETING"):
        result.note = (f"The job is {value}: CPU and memory come from its samples so far; time once it has "
                       "ended.")
    return result


def suggestion_lines(s: Suggestion) -> list[str]:
    """The suggestion as text (``%tritonml efficiency`` and ``resubmit --suggested``)."""
    if s.note and not s.changes:
        return [s.note]
    if not s.changes:
        return ["Suggested for a rerun: nothing to change."]
    option = {"gpus": "--gpus", "cpus_per_task": "--cpus-per-task", "mem": "--mem", "time": "--time"}
    lines = [f"Suggested for a rerun (%tritonml resubmit {s.id} --suggested):"]
    for c in s.changes:
        was = c.from_ if c.from_ is not None else "the default"
        lines.append(f"  {option[c.field]}={c.to} (was {was}): {c.reason}")
    return lines
