"""The catalog benchmark's tree (issues 5 and 18): ``N`` entries holding ``M`` empty files in total.

A few entries are HF repos (a sparse safetensors file with a valid header, from the test sample's
model helpers); the others are dataset folders of ImageNet, WebDataset or parquet shape, with at most
``per_dir`` files per directory.  Files are made with ``mknod`` in forked processes, as a million of
them take minutes otherwise; a tree is reused when ``DEST/.sample-tree.json`` matches the request.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Optional, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tritonml_lab.tests.sample_tree import _commit, _j, llama_like, safetensors_header, write_sparse  # noqa: E402


def _bench_entry(args: Tuple[str, int, int, int]) -> int:
    dest, i, files, per_dir = args
    mknod = os.mknod
    mode = 0o644 | 0o100000
    made = 0
    if i % 50 == 7:     # a few HF repos
        hub = os.path.join(dest, "huggingface-hub-cache", "hub")
        repo = os.path.join(hub, f"models--bench-org--model-{i:04d}")
        commit = _commit(f"bench{i}")
        snap = os.path.join(repo, "snapshots", commit)
        os.makedirs(snap, exist_ok=True)
        os.makedirs(os.path.join(repo, "refs"), exist_ok=True)
        with open(os.path.join(repo, "refs", "main"), "w") as f:
            f.write(commit)
        cfg = _j({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
                  "max_position_embeddings": 4096})
        head, data = safetensors_header(llama_like(2, 256, 512, 2, 4, 1000))
        blob_files = {"config.json": cfg}
        for rel, content in blob_files.items():
            b = hashlib.sha1(content).hexdigest()
            os.makedirs(os.path.join(repo, "blobs"), exist_ok=True)
            with open(os.path.join(repo, "blobs", b), "wb") as f:
                f.write(content)
            os.symlink(f"../../blobs/{b}", os.path.join(snap, rel))
        blob = hashlib.sha256(head).hexdigest() + f"{i:04d}"
        write_sparse(os.path.join(repo, "blobs", blob), head, len(head) + data)
        os.symlink(f"../../blobs/{blob}", os.path.join(snap, "model.safetensors"))
        base = os.path.join(repo, "blobs")
        for j in range(files - 3):   # fill the rest with small blobs
            if j % per_dir == 0:
                d = os.path.join(base, f"x{j // per_dir:04d}")
                os.makedirs(d, exist_ok=True)
            mknod(os.path.join(d, f"{j:07d}"), mode)
            made += 1
        return made + 3
    root = os.path.join(dest, f"dataset-{i:04d}")
    kind = i % 4
    os.makedirs(root, exist_ok=True)
    if i % 3 == 0:
        with open(os.path.join(root, "README.md"), "w") as f:
            f.write(f"# Benchmark dataset {i}\n\nSynthetic entry number {i} of the catalog benchmark.\n")
        made += 1
    for j in range(files - made):
        if j % per_dir == 0:
            # webdataset-like: shards/, shards001/...; others: train/class-0000/...
            sub = (f"shards{j // per_dir:03d}" if j else "shards") if kind == 1 else f"train/class-{j // per_dir:04d}"
            d = os.path.join(root, sub)
            os.makedirs(d, exist_ok=True)
        name = f"data-{j:06d}.tar" if kind == 1 else (f"img_{j:07d}.jpg" if kind != 2 else f"part-{j:06d}.parquet")
        mknod(os.path.join(d, name), mode)
        made += 1
    return made


def generate_bench(dest: str, entries: int, files: int, per_dir: int = 500, procs: Optional[int] = None) -> int:
    stamp = os.path.join(dest, ".sample-tree.json")
    want = {"entries": entries, "files": files, "per_dir": per_dir, "version": 1}
    try:
        with open(stamp) as f:
            if json.load(f) == want:
                return -1
    except (OSError, ValueError):
        pass
    if os.path.exists(dest) and os.listdir(dest):
        raise SystemExit(f"{dest} exists with other content; remove it first")
    os.makedirs(os.path.join(dest, "huggingface-hub-cache", "hub"), exist_ok=True)
    per_entry = max(1, files // entries)
    extra = files - per_entry * entries
    jobs = [(dest, i, per_entry + (1 if i < extra else 0), per_dir) for i in range(entries)]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(procs or os.cpu_count() or 1) as pool:
        total = sum(pool.imap_unordered(_bench_entry, jobs, chunksize=4))
    with open(stamp, "w") as f:
        json.dump(want, f)
    return total
