"""The cluster summary: partitions, their nodes, CPUs and GPUs (total and free now).

Read live from one compact text call (:data:`SINFO_FORMAT`), or from JSON as releases print node
lists: 22.05's ``sinfo --json`` (top-level "nodes"), 23.02+'s ``sinfo --json`` (top-level "sinfo",
groups of nodes; no ``idle_cpus``), ``scontrol show nodes --json``. Both readers give node groups
that one function sums, so text and JSON give the same summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Optional

from .errors import SlurmOutputError
from .gres import GpuCounts, gpus_of
from .hostlist import expand
from .models import ClusterSummary, GpuCount, Partition
from .timefmt import format_duration, parse_duration
from .values import first, flags, guarded, items, load, note_layout, number, obj, text
from .version import KNOWN_LAYOUTS

# Width 0 prints a field whole, unpadded (22.05 through 25.05). With Gres, GresUsed and
# StateComplete in the format, sinfo folds only nodes alike in all three into one line (its match
# flags), so each line's per-node GRES times its node count is exact, and a site of 1,000 nodes
# answers in a few kilobytes where `sinfo --json` prints megabytes.
SINFO_FIELDS = ("Partition", "Available", "Time", "Nodes", "CPUsState", "StateComplete", "Gres", "GresUsed",
                "NodeList")
SINFO_FORMAT = ",".join(f"{name}:0|" for name in SINFO_FIELDS[:-1]) + f",{SINFO_FIELDS[-1]}:0"

# Node states (and the compact suffixes of older releases) whose GPUs no job can get now.
_UNUSABLE = ("DOWN", "DRAIN", "FAIL", "MAINT", "NOT_RESPONDING", "NO_RESPOND", "FUTURE", "POWER", "REBOOT",
             "UNKNOWN", "INVAL")
_SUFFIXES = {"*": "NOT_RESPONDING", "~": "POWERED_DOWN", "%": "POWERING_DOWN", "!": "POWER_DOWN",
             "#": "POWERING_UP", "$": "MAINT", "@": "REBOOT_REQUESTED", "^": "REBOOT_ISSUED", "-": "PLANNED"}


@dataclass
class PartitionInfo:
    name: str
    default: bool = False
    state: str = "UP"
    time_limit: Optional[str] = None
    node_count: Optional[int] = None


@dataclass
class NodeGroup:
    """Nodes of one partition alike in state, GRES and GRES in use (one sinfo line or JSON record)."""

    partition: str
    nodes: list[str]
    count: int
    cpus_idle: int
    cpus_total: int
    states: list[str] = field(default_factory=list)
    gres: str = ""
    gres_used: str = ""

    @property
    def usable(self) -> bool:
        return not any(bad in state for state in self.states for bad in _UNUSABLE)


def _state_words(value: Any) -> list[str]:
    """"mixed+drain" / "idle*" / ["IDLE", "DRAIN"] -> ["MIXED", "DRAIN"] / ["IDLE", "NOT_RESPONDING"] / ..."""
    words = []
    for word in flags(value.split("+") if isinstance(value, str) else value):
        while word and word[-1] in _SUFFIXES:
            words.append(_SUFFIXES[word[-1]])
            word = word[:-1]
        words.append(word)
    return [word for word in words if word]


# -- text: sinfo --noheader --Format=SINFO_FORMAT ------------------------------------------------------
def cluster_summary(sinfo_text: str, cluster: Optional[str] = None) -> ClusterSummary:
    partitions: dict[str, PartitionInfo] = {}
    groups = []
    for line in sinfo_text.splitlines():
        if not line.strip():
            continue
        fields = [part.strip() for part in line.split("|")]
        if len(fields) != len(SINFO_FIELDS):
            raise SlurmOutputError(f"sinfo printed {len(fields)} fields where {len(SINFO_FIELDS)} were asked: {line!r}")
        raw_name, avail, limit, count, cpus, state, gres, used, nodelist = fields
        name = raw_name.rstrip("*")
        partitions.setdefault(name, PartitionInfo(name, raw_name.endswith("*"), avail.upper(), limit))
        aiot = [int(n) if n.isdigit() else 0 for n in cpus.split("/")] + [0] * 4
        if count.isdigit() and int(count) > 0:  # a partition without nodes still has its line
            groups.append(NodeGroup(name, expand(nodelist), int(count), aiot[1], aiot[3], _state_words(state),
                                    gres, used))
    return summarize(partitions, groups, cluster)


# -- JSON: sinfo --json (any release), scontrol show nodes --json --------------------------------------
def cluster_summary_json(nodes_json: str, partitions_text: Optional[str] = None,
                         cluster: Optional[str] = None) -> ClusterSummary:
    """The summary from JSON; ``partitions_text`` (``sinfo --summarize --format=%P|%a|%l|%F|%N``)
    adds what 22.05's node list lacks: partition order, default, availability and time limit."""
    doc = load(nodes_json, "sinfo --json")
    note_layout(doc, "sinfo --json", KNOWN_LAYOUTS)
    if isinstance(doc.get("sinfo"), list):
        partitions, groups = guarded("sinfo --json", lambda: _from_sinfo_groups(doc["sinfo"]))
    elif isinstance(doc.get("nodes"), list):
        partitions, groups = {}, guarded("sinfo --json", lambda: [
            g for node in doc["nodes"] if isinstance(node, dict) for g in _from_node(node)])
    else:  # the silent-zero of reading 23.02's "sinfo" as 22.05's "nodes" must not come back
        raise SlurmOutputError("sinfo --json printed neither 'sinfo' (23.02+) nor 'nodes' (22.05)")
    if partitions_text is not None:
        partitions = _partitions_from_summary(partitions_text)
    return summarize(partitions, groups, cluster)


def _from_sinfo_groups(records: list[dict[str, Any]]) -> tuple[dict[str, PartitionInfo], list[NodeGroup]]:
    """23.02+: one record per partition and set of like nodes. `sinfo --json` folds nodes by state and
    GRES in use but reports the GRES of the first: a record of several nodes counts it per node."""
    partitions: dict[str, PartitionInfo] = {}
    groups = []
    for record in records:
        if not isinstance(record, dict):
            continue
        part = obj(record.get("partition"))
        name = text(part.get("name")) or ""
        minutes = number(obj(part.get("maximums")).get("time"))
        state = text(flags(obj(part.get("partition")).get("state"))) or "UP"
        partitions.setdefault(name, PartitionInfo(
            name, "DEFAULT" in flags(part.get("flags")), state,
            format_duration(minutes * 60) if minutes is not None else None))
        nodes, cpus, gres = obj(record.get("nodes")), obj(record.get("cpus")), obj(record.get("gres"))
        names = [str(n) for n in items(nodes.get("nodes"))]
        count = number(nodes.get("total")) or len(names)
        if count:
            groups.append(NodeGroup(name, names, count, number(cpus.get("idle")) or 0, number(cpus.get("total")) or 0,
                                    _state_words(obj(record.get("node")).get("state")),
                                    text(gres.get("total")) or "", text(gres.get("used")) or ""))
    return partitions, groups


def _from_node(node: dict[str, Any]) -> list[NodeGroup]:
    """One node record (22.05 sinfo, scontrol show nodes): a group in each of its partitions."""
    states = _state_words(flags(node.get("state")) + flags(node.get("state_flags")))
    total = number(node.get("cpus")) or 0
    idle = number(first(node, "idle_cpus", "alloc_idle_cpus"))  # idle_cpus went in v0.0.39
    if idle is None:
        idle = max(0, total - (number(node.get("alloc_cpus")) or 0))
    group = NodeGroup("", [str(node.get("name"))], 1, idle, total, states,
                      text(node.get("gres")) or "", text(node.get("gres_used")) or "")
    if not group.usable:
        group.cpus_idle = 0  # as sinfo counts them: "other", not idle
    return [replace(group, partition=str(name)) for name in items(node.get("partitions"))]


def _partitions_from_summary(summary_text: str) -> dict[str, PartitionInfo]:
    partitions = {}
    for line in summary_text.splitlines():
        fields = line.strip().split("|")
        if len(fields) < 4:
            continue
        raw_name, avail, limit, counts = fields[:4]
        name = raw_name.rstrip("*")
        total = counts.split("/")[-1]  # %F is "allocated/idle/other/total"
        partitions[name] = PartitionInfo(name, raw_name.endswith("*"), avail.upper(), limit,
                                         int(total) if total.isdigit() else None)
    return partitions


# -- the sum -----------------------------------------------------------------------------------------
def summarize(partitions: dict[str, PartitionInfo], groups: list[NodeGroup],
              cluster: Optional[str] = None) -> ClusterSummary:
    members: dict[str, list[NodeGroup]] = {}
    for group in groups:
        members.setdefault(group.partition, []).append(group)
        partitions.setdefault(group.partition, PartitionInfo(group.partition))
    result = []
    for name, info in partitions.items():
        own = members.get(name, [])
        seconds = parse_duration(info.time_limit)
        result.append(Partition(
            name=name,
            default=info.default,
            time_limit=None if seconds is None else info.time_limit,
            time_limit_minutes=None if seconds is None else seconds // 60,
            nodes=sorted({node for group in own for node in group.nodes}),
            node_count=sum(group.count for group in own) or info.node_count or 0,
            state=info.state,
            cpus_total=sum(group.cpus_total for group in own),
            cpus_idle=sum(group.cpus_idle for group in own),
            gpus=_gpu_counts((group, group.count) for group in own),
        ))
    gpus = _gpu_counts(_each_node_once(groups))
    return ClusterSummary(cluster=cluster, partitions=result, gpus=gpus,
                          gpus_total=sum(g.total for g in gpus), gpus_free=sum(g.free for g in gpus))


def _each_node_once(groups: list[NodeGroup]) -> Iterable[tuple[NodeGroup, int]]:
    """A node in three partitions has its GPUs once in the cluster's total."""
    seen: set[str] = set()
    for group in groups:
        fresh = [node for node in group.nodes if node not in seen]
        seen.update(fresh)
        yield group, len(fresh) if group.nodes else group.count


def _gpu_counts(groups: Iterable[tuple[NodeGroup, int]]) -> list[GpuCount]:
    """GPUs by type: configured per node x nodes; free = configured - in use, on usable nodes."""
    totals: dict[Optional[str], list[int]] = {}
    for group, nodes in groups:
        used: GpuCounts = gpus_of(group.gres_used)
        for kind, count in gpus_of(group.gres).items():
            entry = totals.setdefault(kind, [0, 0])
            entry[0] += count * nodes
            if group.usable:
                entry[1] += max(0, count - used.get(kind, 0)) * nodes
    return [GpuCount(type=kind, total=total, free=free)
            for kind, (total, free) in sorted(totals.items(), key=lambda item: str(item[0])) if total > 0]
