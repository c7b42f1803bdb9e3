"""Detection of plain dataset (and raw model) folders from a *bounded* look.

The probe reads at most ``TOP_LIMIT`` directory entries of the entry directory and
``SUB_LIMIT`` entries of at most ``MAX_SUBDIRS`` of its subdirectories (scandir only, no stat of
files, no file reads).  Exact file counts and per-format counts come later from the background
size scan (:mod:`.sizes`).  Recognised:

* README / LICENSE files at the top level;
* ImageNet-like layouts: ``train``/``val`` split dirs with class subdirectories (``imagefolder``)
  or the ILSVRC tars (``ILSVRC2012_img_train.tar`` ...; ``ilsvrc-tars``);
* WebDataset shards: ``<prefix>-000000.tar`` style numbered tars (``webdataset``);
* parquet / arrow / hdf5 / csv / audio ... by extension; other archives are listed;
* raw model checkpoints (``consolidated.00.pth`` + ``params.json``, ``*.safetensors``,
  ``*.gguf`` ...) make the folder a ``model``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from . import fsio
from .models import DatasetInfo, FileItem, ShardInfo

TOP_LIMIT = 500
SUB_LIMIT = 200
MAX_SUBDIRS = 8
MAX_SIG_DIRS = 16
SHARD_LIST_LIMIT = 200_000

README_NAMES = ("readme.md", "readme", "readme.txt", "readme.rst")
LICENSE_NAMES = ("license", "license.txt", "license.md", "licence", "licence.txt", "copying", "copying.txt")
SPLIT_NAMES = ("train", "val", "validation", "valid", "test", "dev")
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
WEIGHT_EXTS = {".safetensors", ".pth", ".pt", ".ckpt", ".gguf", ".bin", ".h5", ".msgpack", ".onnx"}
ARCHIVE_EXTS = {".tar", ".tar.gz", ".tgz", ".zip", ".tar.zst", ".tar.bz2", ".tar.xz", ".7z"}
FORMAT_LAYOUTS = {".parquet": "parquet", ".arrow": "arrow", ".h5": "hdf5", ".hdf5": "hdf5",
                  ".csv": "csv", ".jsonl": "jsonl", ".npy": "numpy", ".npz": "numpy",
                  ".wav": "audio", ".flac": "audio", ".mp3": "audio", ".midi": "midi", ".mid": "midi",
                  ".mp4": "video", ".lmdb": "lmdb", ".sqlite": "sqlite", ".zarr": "zarr"}
SHARD_RE = re.compile(r"^(?P<prefix>.*?)(?P<num>\d{3,})(?P<suffix>\.tar(?:\.gz)?)$")
ILSVRC_RE = re.compile(r"^ILSVRC20\d\d_img_(train|val|test)\w*\.tar$", re.I)


def file_ext(name: str) -> Optional[str]:
    low = name.lower()
    for double in (".tar.gz", ".tar.zst", ".tar.bz2", ".tar.xz"):
        if low.endswith(double):
            return double
    i = low.rfind(".")
    return low[i:] if i > 0 else None


def _look(path: str, limit: int) -> Tuple[List[Tuple[str, bool]], bool]:
    """Up to ``limit`` (name, is_dir) pairs of ``path``; no symlink is treated as a dir."""
    out: List[Tuple[str, bool]] = []
    truncated = False
    try:
        with fsio.scandir(path) as it:
            for e in it:
                if len(out) >= limit:
                    truncated = True
                    break
                try:
                    out.append((e.name, e.is_dir(follow_symlinks=False)))
                except OSError:
                    continue
    except OSError:
        pass
    return out, truncated


@dataclass
class FolderProbe:
    kind: str
    info: DatasetInfo
    readme_path: Optional[str] = None
    license_path: Optional[str] = None
    metadata_files: List[str] = field(default_factory=list)
    signature_dirs: List[str] = field(default_factory=list)
    top_level: List[FileItem] = field(default_factory=list)
    top_level_truncated: bool = False
    model_files: List[str] = field(default_factory=list)


def _shards_in(names: List[str]) -> Dict[Tuple[str, str, int], List[str]]:
    groups: Dict[Tuple[str, str, int], List[str]] = {}
    for n in names:
        m = SHARD_RE.match(n)
        if m:
            key = (m.group("prefix"), m.group("suffix"), len(m.group("num")))
            groups.setdefault(key, []).append(n)
    return {k: v for k, v in groups.items() if len(v) >= 2 or (len(v) == 1 and k[0].endswith(("-", "_")))}


def shard_info(directory: str, rel: str, names: List[str]) -> List[ShardInfo]:
    out = []
    for (prefix, suffix, width), group in sorted(_shards_in(names).items()):
        nums = sorted(int(SHARD_RE.match(n).group("num")) for n in group)  # type: ignore[union-attr]
        contiguous = nums[-1] - nums[0] + 1 == len(nums)
        pattern = None
        if contiguous:
            pattern = f"{prefix}{{{nums[0]:0{width}d}..{nums[-1]:0{width}d}}}{suffix}"
        out.append(ShardInfo(directory=rel, count=len(group), pattern=pattern, examples=sorted(group)[:3]))
    return out


def full_shard_info(entry_dir: str, rel: str) -> List[ShardInfo]:
    """Complete listing of one shard directory (a single scandir, bounded), for the detail view."""
    names = [n for n, is_dir in _look(os.path.join(entry_dir, rel) if rel else entry_dir, SHARD_LIST_LIMIT)[0]
             if not is_dir]
    return shard_info(entry_dir, rel, names)


def probe_folder(path: str) -> FolderProbe:
    top, truncated = _look(path, TOP_LIMIT)
    info = DatasetInfo()
    probe = FolderProbe(kind="dataset", info=info, top_level_truncated=truncated)
    formats: Dict[str, int] = {}
    top_files = [n for n, d in top if not d]
    top_dirs = sorted(n for n, d in top if d and not n.startswith("."))
    lower = {n.lower(): n for n in top_files}

    for cand in README_NAMES:
        if cand in lower:
            probe.readme_path = os.path.join(path, lower[cand])
            break
    for cand in LICENSE_NAMES:
        if cand in lower:
            probe.license_path = os.path.join(path, lower[cand])
            break
    probe.metadata_files = [n for n in top_files if n in (".tritonml.toml", ".tritonml.json")]
    probe.top_level = [FileItem(name=n, is_dir=d) for n, d in sorted(top)[:200]]
    probe.signature_dirs = [path] + [os.path.join(path, d) for d in top_dirs[:MAX_SIG_DIRS]]

    def count(names):
        for n in names:
            if n.startswith("."):
                continue
            x = file_ext(n)
            if x:
                formats[x] = formats.get(x, 0) + 1

    count(top_files)
    shards = shard_info(path, "", top_files)
    layouts: List[str] = []
    model_files = [n for n in top_files if file_ext(n) in WEIGHT_EXTS or n == "params.json"]

    sub_looks: Dict[str, List[Tuple[str, bool]]] = {}
    for d in top_dirs[:MAX_SUBDIRS]:
        sub, _ = _look(os.path.join(path, d), SUB_LIMIT)
        sub_looks[d] = sub
        files = [n for n, isd in sub if not isd]
        count(files)
        shards += shard_info(path, d, files)
        model_files += [f"{d}/{n}" for n in files if n.startswith("consolidated.") and n.endswith(".pth")]
        model_files += [f"{d}/{n}" for n in files if n == "params.json"]

    splits = [d for d in top_dirs if d.lower() in SPLIT_NAMES]
    info.splits = splits
    if any(ILSVRC_RE.match(n) for n in top_files):
        layouts.append("ilsvrc-tars")
    train = next((s for s in splits if s.lower() == "train"), splits[0] if splits else None)
    if train is not None:
        class_dirs = [n for n, isd in sub_looks.get(train, _look(os.path.join(path, train), SUB_LIMIT)[0]) if isd]
        if len(class_dirs) >= 2:
            sample, _ = _look(os.path.join(path, train, sorted(class_dirs)[0]), 20)
            if any(file_ext(n) in IMAGE_EXTS for n, isd in sample if not isd):
                layouts.append("imagefolder")
                info.class_dirs = len(class_dirs)
    if shards:
        layouts.append("webdataset")
        info.shards = shards[:20]
    for x, layout in FORMAT_LAYOUTS.items():
        if x in formats and layout not in layouts:
            layouts.append(layout)
    shard_names = {n for s in shards for n in s.examples}
    info.archives = sorted(n for n in top_files if file_ext(n) in ARCHIVE_EXTS and not SHARD_RE.match(n))[:50]
    if info.archives and "ilsvrc-tars" not in layouts and not shard_names:
        layouts.append("archives")
    info.layouts = layouts
    info.formats = dict(sorted(formats.items(), key=lambda kv: (-kv[1], kv[0]))[:20])

    weights = [m for m in model_files if file_ext(m) in WEIGHT_EXTS]
    has_config = "config.json" in top_files or "params.json" in top_files or any(m.endswith("params.json") for m in model_files)
    if weights and (has_config or any(file_ext(m) in {".safetensors", ".gguf"} for m in weights)) \
            and "imagefolder" not in layouts and "webdataset" not in layouts:
        probe.kind = "model"
    probe.model_files = sorted(model_files)[:50]
    return probe
