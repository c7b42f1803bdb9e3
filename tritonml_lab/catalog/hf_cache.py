"""Detection of Hugging Face hub caches and of the repos inside them.

Layout (``huggingface_hub`` cache v1)::

    HF_HOME/hub/models--ORG--NAME/
        blobs/<hash>                      the file contents
        refs/main                         commit hash (also refs/pr/1, tags, other branches)
        snapshots/<commit>/config.json -> ../../blobs/<hash>

A *hub dir* is a directory with ``models--*`` / ``datasets--*`` children; an *HF home* is a directory
whose ``hub/`` child is a hub dir.  Everything here reads only small files (refs, ``config.json``,
``*.safetensors.index.json``, the 8-byte length + JSON header of a safetensors file, the first
bytes of ``README.md``) and never follows a link that leaves the repo directory.
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from . import fsio
from .models import FileItem, HFInfo, Revision
from .safety import open_regular, read_bounded

REPO_PREFIXES = {"models--": "model", "datasets--": "dataset"}
CONFIG_LIMIT = 1 << 20
INDEX_LIMIT = 16 << 20
HEADER_LIMIT = 100 << 20
README_HEAD = 16 << 10
MAX_FILES = 2000
MAX_HEADER_SHARDS = 64

DTYPE_BYTES = {
    "float64": 8, "F64": 8, "I64": 8, "int64": 8, "U64": 8,
    "float32": 4, "F32": 4, "I32": 4, "int32": 4, "U32": 4,
    "float16": 2, "F16": 2, "bfloat16": 2, "BF16": 2, "I16": 2, "U16": 2,
    "int8": 1, "I8": 1, "U8": 1, "uint8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
}
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length",
                "n_ctx", "max_seq_len", "max_target_positions", "model_max_length")
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "encoder_layers", "decoder_layers")


def parse_repo_dirname(name: str) -> Optional[Tuple[str, str]]:
    """``models--meta-llama--Meta-Llama-3-8B`` -> ``("model", "meta-llama/Meta-Llama-3-8B")``."""
    for prefix, repo_type in REPO_PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return repo_type, name[len(prefix):].replace("--", "/")
    return None


def looks_like_hub_dir(path: str, limit: int = 2000) -> bool:
    """Bounded look: does ``path`` contain ``models--*``/``datasets--*`` directories?"""
    try:
        with fsio.scandir(path) as it:
            for i, entry in enumerate(it):
                if i >= limit:
                    break
                if parse_repo_dirname(entry.name) and entry.is_dir(follow_symlinks=False):
                    return True
    except OSError:
        pass
    return False


def find_hub_dir(path: str) -> Optional[Tuple[str, Optional[str]]]:
    """If ``path`` is an HF home return ``(path/hub, path)``; if it is itself a hub dir
    return ``(path, path's parent if the dir is named 'hub' else None)``."""
    hub = os.path.join(path, "hub")
    if fsio.is_real_dir(hub) and looks_like_hub_dir(hub):
        return hub, path
    if looks_like_hub_dir(path):
        home = os.path.dirname(path) if os.path.basename(path) == "hub" else None
        return path, home
    return None


def _read_json(path: str, within: str, limit: int) -> Optional[dict]:
    data = read_bounded(path, within, limit)
    if not data:
        return None
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def read_safetensors_header(path: str, within: str) -> Optional[dict]:
    """Read only the 8-byte little-endian length and the JSON header of a safetensors file."""
    fd = open_regular(path, within)
    if fd is None:
        return None
    try:
        head = os.pread(fd, 8, 0)
        if len(head) != 8:
            return None
        (length,) = struct.unpack("<Q", head)
        if length <= 0 or length > HEADER_LIMIT:
            return None
        raw = os.pread(fd, length, 8)
        if len(raw) != length:
            return None
        header = json.loads(raw)
        return header if isinstance(header, dict) else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    finally:
        os.close(fd)


def count_header_parameters(header: dict) -> Tuple[int, Dict[str, int]]:
    """Sum of shape products over the tensors of a safetensors header, and the dtype histogram."""
    total = 0
    dtypes: Dict[str, int] = {}
    for name, info in header.items():
        if name == "__metadata__" or not isinstance(info, dict):
            continue
        n = 1
        for dim in info.get("shape") or []:
            n *= int(dim)
        total += n
        dt = str(info.get("dtype"))
        dtypes[dt] = dtypes.get(dt, 0) + n
    return total, dtypes


def parse_front_matter(text: str) -> Dict[str, object]:
    """Tiny YAML-subset reader for a model card's front matter (``key: value`` and ``- item`` lists)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    result: Dict[str, object] = {}
    current: Optional[str] = None
    for line in lines[1:200]:
        if line.strip() == "---":
            break
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith((" ", "\t", "-")):
            item = line.strip()
            if current and item.startswith("- "):
                value = item[2:].strip().strip("'\"")
                lst = result.setdefault(current, [])
                if isinstance(lst, list) and value:
                    lst.append(value)
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        current = key.strip()
        value = value.strip().strip("'\"")
        if value.startswith("[") and value.endswith("]"):
            result[current] = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
        elif value:
            result[current] = value
        else:
            result[current] = []
    return result


def strip_front_matter(text: str) -> str:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            nl = text.find("\n", end + 4)
            return text[nl + 1:] if nl != -1 else ""
    return text


@dataclass
class HFProbe:
    info: HFInfo
    snapshot_dir: Optional[str]
    readme_path: Optional[str] = None
    license: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    pipeline_tag: Optional[str] = None
    signature_dirs: List[str] = field(default_factory=list)
    top_level: List[FileItem] = field(default_factory=list)
    formats: Dict[str, int] = field(default_factory=dict)


def _read_refs(refs_dir: str, repo_real: str) -> Dict[str, str]:
    refs: Dict[str, str] = {}
    stack = [("", refs_dir)]
    seen = 0
    while stack and seen < 200:
        prefix, d = stack.pop()
        try:
            with fsio.scandir(d) as it:
                for e in it:
                    seen += 1
                    name = prefix + e.name
                    if e.is_dir(follow_symlinks=False):
                        stack.append((name + "/", e.path))
                    elif e.is_file(follow_symlinks=False):
                        data = read_bounded(e.path, repo_real, 128)
                        if data:
                            commit = data.decode("ascii", "replace").strip()
                            if commit:
                                refs[name] = commit
        except OSError:
            continue
    return refs


def _list_snapshot(snap: str, limit: int = MAX_FILES) -> Tuple[List[str], bool]:
    """Relative file names of a snapshot (links are listed, not followed)."""
    files: List[str] = []
    stack = [("", snap)]
    truncated = False
    while stack:
        prefix, d = stack.pop()
        try:
            with fsio.scandir(d) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append((prefix + e.name + "/", e.path))
                    else:
                        if len(files) >= limit:
                            truncated = True
                            break
                        files.append(prefix + e.name)
        except OSError:
            continue
    files.sort()
    return files, truncated


def _ext(name: str) -> Optional[str]:
    base = name.rsplit("/", 1)[-1].lower()
    for double in (".tar.gz", ".tar.zst", ".tar.bz2", ".tar.xz"):
        if base.endswith(double):
            return double
    i = base.rfind(".")
    return base[i:] if i > 0 else None


def _first_int(cfg: dict, keys) -> Optional[int]:
    for k in keys:
        v = cfg.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def probe_hf_repo(repo_dir: str, hub_dir: str, hf_home: Optional[str]) -> Optional[HFProbe]:
    """Inspect one ``models--``/``datasets--`` directory (a bounded number of small reads)."""
    parsed = parse_repo_dirname(os.path.basename(repo_dir))
    if not parsed:
        return None
    repo_type, repo_id = parsed
    repo_real = fsio.realpath(repo_dir)
    info = HFInfo(repo_id=repo_id, repo_type=repo_type, hub_dir=hub_dir, hf_home=hf_home)
    probe = HFProbe(info=info, snapshot_dir=None)
    sig = [os.path.join(repo_dir, n) for n in ("blobs", "refs", "snapshots")]

    refs = _read_refs(os.path.join(repo_dir, "refs"), repo_real)
    snaps: List[Tuple[float, str]] = []
    try:
        with fsio.scandir(os.path.join(repo_dir, "snapshots")) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    try:
                        snaps.append((e.stat(follow_symlinks=False).st_mtime, e.name))
                    except OSError:
                        snaps.append((0.0, e.name))
    except OSError:
        pass
    snap_names = {name for _, name in snaps}
    by_commit: Dict[str, List[str]] = {}
    for ref, commit in refs.items():
        by_commit.setdefault(commit, []).append(ref)
    default = refs.get("main") if refs.get("main") in snap_names else None
    if default is None and snaps:
        default = max(snaps)[1]
    revisions = []
    for _, name in sorted(snaps, reverse=True):
        revisions.append(Revision(commit=name, refs=sorted(by_commit.get(name, []))))
        sig.append(os.path.join(repo_dir, "snapshots", name))
    info.revisions = revisions[:50]
    info.default_revision = default
    probe.signature_dirs = sig[:20]

    try:
        with fsio.scandir(repo_dir) as it:
            probe.top_level = sorted((FileItem(name=e.name, is_dir=e.is_dir(follow_symlinks=False))
                                      for e in it), key=lambda f: f.name)[:200]
    except OSError:
        pass

    if default is None:
        return probe
    snap = os.path.join(repo_dir, "snapshots", default)
    probe.snapshot_dir = snap
    files, _ = _list_snapshot(snap)
    info.files = files
    for rev in info.revisions:
        if rev.commit == default:
            rev.file_count = len(files)
    for f in files:
        x = _ext(f)
        if x:
            probe.formats[x] = probe.formats.get(x, 0) + 1

    fileset = set(files)
    readme_name = next((n for n in ("README.md", "README.MD", "readme.md", "README") if n in fileset), None)
    if readme_name:
        probe.readme_path = os.path.join(snap, readme_name)
        head = read_bounded(probe.readme_path, repo_real, README_HEAD)
        if head:
            fm = parse_front_matter(head.decode("utf-8", "replace"))
            lic = fm.get("license")
            if isinstance(lic, str):
                probe.license = lic
            elif isinstance(lic, list) and lic:
                probe.license = str(lic[0])
            tags = fm.get("tags")
            if isinstance(tags, list):
                probe.tags = [str(t) for t in tags[:20]]
            if isinstance(fm.get("pipeline_tag"), str):
                probe.pipeline_tag = fm["pipeline_tag"]  # type: ignore[assignment]

    if repo_type == "model":
        _probe_model_config(probe, snap, fileset, repo_real)
    return probe


def _probe_model_config(probe: HFProbe, snap: str, fileset: set, repo_real: str) -> None:
    info = probe.info
    cfg = _read_json(os.path.join(snap, "config.json"), repo_real, CONFIG_LIMIT) if "config.json" in fileset else None
    if cfg:
        archs = cfg.get("architectures")
        if isinstance(archs, list):
            info.architectures = [str(a) for a in archs[:5]]
        if isinstance(cfg.get("model_type"), str):
            info.model_type = cfg["model_type"]
        dtype = cfg.get("torch_dtype") or cfg.get("dtype")
        text_cfg = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else {}
        if not dtype:
            dtype = text_cfg.get("torch_dtype") or text_cfg.get("dtype")
        if isinstance(dtype, str):
            info.torch_dtype = dtype
        info.context_length = _first_int(cfg, CONTEXT_KEYS) or _first_int(text_cfg, CONTEXT_KEYS)
        info.hidden_size = _first_int(cfg, ("hidden_size", "d_model", "n_embd")) or _first_int(text_cfg, ("hidden_size",))
        info.num_layers = _first_int(cfg, LAYER_KEYS) or _first_int(text_cfg, LAYER_KEYS)
        info.vocab_size = _first_int(cfg, ("vocab_size",)) or _first_int(text_cfg, ("vocab_size",))

    # 1. sharded: <name>.safetensors.index.json -> metadata.total_size / bytes per element
    index_name = "model.safetensors.index.json" if "model.safetensors.index.json" in fileset else next(
        (f for f in sorted(fileset) if f.endswith(".safetensors.index.json") and "/" not in f), None)
    if index_name:
        index = _read_json(os.path.join(snap, index_name), repo_real, INDEX_LIMIT)
        if index:
            meta = index.get("metadata") if isinstance(index.get("metadata"), dict) else {}
            total_params = meta.get("total_parameters")
            total_size = meta.get("total_size")
            if isinstance(total_params, int) and total_params > 0:
                info.num_parameters = total_params
                info.parameter_source = "safetensors-index"
                return
            if isinstance(total_size, (int, float)) and total_size > 0:
                elem = None
                wm = index.get("weight_map")
                if isinstance(wm, dict) and wm:
                    first = sorted(set(str(v) for v in wm.values()))[0]
                    header = read_safetensors_header(os.path.join(snap, first), repo_real)
                    if header:
                        _, dtypes = count_header_parameters(header)
                        if dtypes:
                            main = max(dtypes.items(), key=lambda kv: kv[1])[0]
                            elem = DTYPE_BYTES.get(main)
                if elem is None and info.torch_dtype:
                    elem = DTYPE_BYTES.get(info.torch_dtype)
                if elem:
                    info.num_parameters = int(total_size) // elem
                    info.parameter_source = "safetensors-index"
                    return
    # 2. unsharded (or index without total_size): sum the headers of the *.safetensors files
    shards = sorted(f for f in fileset if f.endswith(".safetensors") and "/" not in f)
    if shards and len(shards) <= MAX_HEADER_SHARDS:
        total = 0
        for f in shards:
            header = read_safetensors_header(os.path.join(snap, f), repo_real)
            if header is None:
                return
            total += count_header_parameters(header)[0]
        if total:
            info.num_parameters = total
            info.parameter_source = "safetensors-header"
