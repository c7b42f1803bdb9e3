"""Usage snippets for catalog entries: Python, batch-script lines and the plain path.

Paths are quoted with ``repr`` in Python and ``shlex.quote`` in shell.  Hugging Face snippets set
the cache location and offline flags through ``os.environ`` *before* importing transformers (the
libraries read them at import time).  Datasets made of many small files are staged to node-local
``/tmp/$SLURM_JOB_ID`` with a ``#SBATCH --tmp`` request sized from the scanned size.
"""
from __future__ import annotations

import math
import re
import shlex
from typing import List, Optional

from .models import DatasetInfo, HFInfo, Snippets

GIB = 1 << 30


def _safe_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return s or "data"


def tmp_request(size_bytes: Optional[int]) -> str:
    """``#SBATCH --tmp`` line: scanned size + 10 % + 1 GiB, rounded up to whole GiB."""
    if size_bytes is None:
        return "#SBATCH --tmp=100G   # size not known yet: adjust to what you copy"
    gib = max(1, math.ceil(size_bytes * 1.1 / GIB) + 1)
    return f"#SBATCH --tmp={gib}G"


def _hf_env_python(hf: HFInfo, datasets: bool) -> List[str]:
    lines = ["import os", "", "# Offline use of the shared Hugging Face cache: set these BEFORE importing"
             " transformers / datasets / huggingface_hub."]
    if hf.hf_home:
        lines.append(f'os.environ["HF_HOME"] = {hf.hf_home!r}')
    else:
        lines.append(f'os.environ["HF_HUB_CACHE"] = {hf.hub_dir!r}')
    lines += ['os.environ["HF_HUB_OFFLINE"] = "1"', 'os.environ["TRANSFORMERS_OFFLINE"] = "1"']
    if datasets:
        lines += ['os.environ["HF_DATASETS_OFFLINE"] = "1"',
                  "# processed-dataset cache must be writable (the shared cache is read-only)",
                  'os.environ.setdefault("HF_DATASETS_CACHE", os.path.join('
                  'os.environ.get("WRKDIR", os.path.expanduser("~")), ".cache", "hf-datasets"))']
    return lines


def _auto_classes(hf: HFInfo) -> tuple:
    arch = hf.architectures[0] if hf.architectures else ""
    mt = hf.model_type or ""
    if arch.endswith("ForCausalLM") or arch.endswith("LMHeadModel"):
        return "AutoModelForCausalLM", "AutoTokenizer"
    if "whisper" in mt or "SpeechSeq2Seq" in arch or mt in ("speech_to_text", "wav2vec2"):
        return ("AutoModelForSpeechSeq2Seq" if "wav2vec2" not in mt else "AutoModelForCTC"), "AutoProcessor"
    if mt in ("marian", "t5", "mt5", "bart", "mbart", "pegasus", "m2m_100", "nllb") or "Seq2SeqLM" in arch \
            or arch in ("MarianMTModel", "T5ForConditionalGeneration", "BartForConditionalGeneration"):
        return "AutoModelForSeq2SeqLM", "AutoTokenizer"
    if arch.endswith("ForMaskedLM") or arch.endswith("ForPreTraining"):
        return "AutoModelForMaskedLM", "AutoTokenizer"
    if arch.endswith("ForSequenceClassification"):
        return "AutoModelForSequenceClassification", "AutoTokenizer"
    if arch.endswith("ForImageClassification"):
        return "AutoModelForImageClassification", "AutoImageProcessor"
    if mt in ("clip", "siglip", "llava", "blip", "vit", "dinov2"):
        return "AutoModel", "AutoProcessor"
    return "AutoModel", "AutoTokenizer"


def hf_snippets(hf: HFInfo, path: str) -> Snippets:
    is_dataset = hf.repo_type == "dataset"
    py = _hf_env_python(hf, datasets=is_dataset)
    rev = ""
    main_commit = next((r.commit for r in hf.revisions if "main" in r.refs), None)
    if hf.default_revision and main_commit != hf.default_revision:
        rev = f", revision={hf.default_revision!r}"  # no refs/main: offline needs the commit
    if is_dataset:
        py += ["", "from datasets import load_dataset", "",
               f"ds = load_dataset({hf.repo_id!r}{rev})", "print(ds)"]
    else:
        model_cls, proc_cls = _auto_classes(hf)
        dtype = ', torch_dtype="auto"'
        py += ["", f"from transformers import {model_cls}, {proc_cls}", "",
               f"model_id = {hf.repo_id!r}",
               f"{'processor' if proc_cls != 'AutoTokenizer' else 'tokenizer'} = {proc_cls}.from_pretrained(model_id{rev})",
               f"model = {model_cls}.from_pretrained(model_id{rev}{dtype})"]
    batch = []
    if not is_dataset:
        batch.append("module load model-huggingface   # Triton: sets the variables below")
    if hf.hf_home:
        batch.append(f"export HF_HOME={shlex.quote(hf.hf_home)}")
    else:
        batch.append(f"export HF_HUB_CACHE={shlex.quote(hf.hub_dir)}")
    batch += ["export HF_HUB_OFFLINE=1", "export TRANSFORMERS_OFFLINE=1"]
    if is_dataset:
        batch += ["export HF_DATASETS_OFFLINE=1",
                  'export HF_DATASETS_CACHE="/tmp/$SLURM_JOB_ID/hf-datasets"   # writable, node-local',
                  "#SBATCH --tmp=... (add to the header: room for the processed dataset)",
                  'mkdir -p "$HF_DATASETS_CACHE"']
    return Snippets(python="\n".join(py) + "\n", batch="\n".join(batch) + "\n", path=path)


def _staging(path: str, name: str, size_bytes: Optional[int], archives: List[str], extract: bool,
             subdirs: Optional[List[str]] = None) -> List[str]:
    dest = f'"/tmp/$SLURM_JOB_ID/{_safe_name(name)}"'
    lines = [tmp_request(size_bytes) + "   # goes into the #SBATCH header",
             f"export DATA_DIR={dest}",
             'mkdir -p "$DATA_DIR"',
             "trap 'rm -rf \"/tmp/$SLURM_JOB_ID\"' EXIT"]
    if archives and extract:
        for a in archives:
            lines.append(f'tar -xf {shlex.quote(path.rstrip("/") + "/" + a)} -C "$DATA_DIR"')
    elif subdirs:
        srcs = " ".join(shlex.quote(path.rstrip("/") + "/" + d) for d in subdirs)
        lines.append(f'rsync -a {srcs} "$DATA_DIR/"')
    else:
        lines.append(f'rsync -a {shlex.quote(path.rstrip("/") + "/")} "$DATA_DIR/"')
    return lines


def folder_snippets(path: str, name: str, kind: str, ds: Optional[DatasetInfo],
                    size_bytes: Optional[int], model_files: Optional[List[str]] = None) -> Snippets:
    layouts = ds.layouts if ds else []
    py: List[str]
    batch: List[str]
    if kind == "model":
        weights = [m for m in (model_files or []) if m.endswith((".pth", ".pt", ".safetensors", ".ckpt"))]
        first = weights[0] if weights else None
        py = ["import os", "", f"MODEL_DIR = {path!r}"]
        if first and first.endswith(".safetensors"):
            py += ["from safetensors.torch import load_file", "",
                   f"state = load_file(os.path.join(MODEL_DIR, {first!r}))"]
        elif first:
            py += ["import torch", "",
                   f"state = torch.load(os.path.join(MODEL_DIR, {first!r}), map_location=\"cpu\", weights_only=True)"]
        else:
            py += ["print(sorted(os.listdir(MODEL_DIR)))"]
        batch = [f"export MODEL_DIR={shlex.quote(path)}   # large files read well from Lustre; no staging needed"]
    elif "webdataset" in layouts and ds and ds.shards:
        shard = max(ds.shards, key=lambda s: s.count)
        sub = (path.rstrip("/") + "/" + shard.directory) if shard.directory else path.rstrip("/")
        py = ["import webdataset as wds", ""]
        if shard.pattern:
            py.append(f"urls = {(sub + '/' + shard.pattern)!r}   # brace-expanded by webdataset")
        else:
            py += ["import glob, os", f"urls = sorted(glob.glob(os.path.join({sub!r}, '*.tar')))"]
        py += ["dataset = (", "    wds.WebDataset(urls, shardshuffle=100)",
               "    .shuffle(1000)", '    .decode("pil")', '    .to_tuple("jpg;jpeg;png", "cls")', ")",
               "", "# loader = wds.WebLoader(dataset, batch_size=64, num_workers=4)"]
        batch = [f"export DATA_DIR={shlex.quote(sub)}   # shards are large files: read them in place"]
    elif "imagefolder" in layouts and ds:
        splits = ds.splits or ["train"]
        py = ["import os", "from torchvision import datasets, transforms", "",
              "# in a batch job use the node-local copy (see the batch lines)",
              f"root = os.environ.get(\"DATA_DIR\", {path!r})",
              "tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])"]
        for s in splits[:3]:
            py.append(f"{_safe_name(s).replace('-', '_').replace('.', '_')}_set = datasets.ImageFolder(os.path.join(root, {s!r}), transform=tf)")
        only_folders = layouts == ["imagefolder"]
        batch = ["# many small files: copy the split folders to the node-local disk first"] + \
            _staging(path, name, size_bytes if only_folders else None, [], extract=False, subdirs=splits[:3])
    elif "ilsvrc-tars" in layouts and ds:
        tars = [a for a in ds.archives if a.upper().startswith("ILSVRC")] or ds.archives
        py = ["import os", "from torchvision import datasets", "",
              "# torchvision.datasets.ImageNet extracts the ILSVRC tars into root, so root must be writable:",
              "# stage the tars to /tmp/$SLURM_JOB_ID (see the batch lines) and point DATA_DIR there.",
              f"root = os.environ.get(\"DATA_DIR\", {path!r})",
              "train = datasets.ImageNet(root, split=\"train\")",
              "val = datasets.ImageNet(root, split=\"val\")"]
        batch = [tmp_request(None if size_bytes is None else size_bytes * 2) + "   # tars + extracted copy",
                 f'export DATA_DIR="/tmp/$SLURM_JOB_ID/{_safe_name(name)}"', 'mkdir -p "$DATA_DIR"',
                 "trap 'rm -rf \"/tmp/$SLURM_JOB_ID\"' EXIT"]
        for a in tars[:6]:
            batch.append(f'cp {shlex.quote(path.rstrip("/") + "/" + a)} "$DATA_DIR/"')
    elif "parquet" in layouts:
        py = ["import pyarrow.dataset as pads", "",
              f"dataset = pads.dataset({path!r}, format=\"parquet\")",
              "print(dataset.schema)", "table = dataset.head(10)"]
        batch = [f"export DATA_DIR={shlex.quote(path)}"]
    else:
        py = ["from pathlib import Path", "", f"root = Path({path!r})",
              "print(sorted(p.name for p in root.iterdir()))"]
        batch = ["# many small files? copy them to the node-local disk first"] + \
            _staging(path, name, size_bytes, ds.archives if ds else [], extract=bool(ds and ds.archives))
    return Snippets(python="\n".join(py) + "\n", batch="\n".join(batch) + "\n", path=path)
