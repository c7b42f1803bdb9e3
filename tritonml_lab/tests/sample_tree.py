"""Generate a realistic sample of ``/scratch/shareddata/dldata`` for the tests and the demo.

    python -m tritonml_lab.tests.sample_tree DEST

The sample has a Hugging Face cache (``huggingface-hub-cache/hub``: blobs, refs, snapshots with
relative symlinks, real-looking ``config.json``; Llama-3-8B and Mistral-7B as sharded safetensors
with an index, whisper-small and bert-base as single safetensors files, opus-mt-en-fi with only
``pytorch_model.bin``; two ``datasets--`` repos), ``imagenet/`` (ILSVRC tars, devkit, train/val
class folders, an admin ``.tritonml.toml``), ``imagenet-1k-wds/`` (small real WebDataset tars),
``laion400M/`` (parquet parts), ``llama-2/`` raw checkpoints and ``maestro/``.  Weight files and big
tars are *sparse* (``truncate``) with a valid safetensors header, so they take no disk space but
parameter counting works.  A root-level ``.tritonml-catalog.toml`` overrides one HF entry.

Test data, not product code, so it lives with the tests: the catalog tests, the tour test, Galata's
server (ui-tests/jupyter_server_test_config.py), dev/demo and Binder's postBuild (both from the
repository's editable install) make their tree with it; benchmarks/bench_tree.py builds the large
benchmark tree from its model helpers.  Over 400 lines as one file: one straight-line generator per
layout of the real tree, each a list of the files it makes; split up, they would only scatter what
the sample looks like.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import struct
import sys
import tarfile
import time
import zlib
from typing import Dict, List, Optional, Sequence, Tuple, Union

DTYPE_SIZE = {"BF16": 2, "F16": 2, "F32": 4}
Tensor = Tuple[str, str, Sequence[int]]


# ----------------------------------------------------------------------------- safetensors
def safetensors_header(tensors: Sequence[Tensor]) -> Tuple[bytes, int]:
    """(8-byte length + JSON header padded to 8 bytes, total data bytes)."""
    header: Dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, dtype, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        nbytes = n * DTYPE_SIZE[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw, offset


def write_sparse(path: str, head: bytes, total: int) -> None:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(max(total, len(head)))


def n_params(tensors: Sequence[Tensor]) -> int:
    total = 0
    for _, _, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        total += n
    return total


def llama_like(layers: int, hidden: int, inter: int, kv: int, heads: int, vocab: int, dtype: str = "BF16",
               tied: bool = False) -> List[Tensor]:
    head_dim = hidden // heads
    t: List[Tensor] = [("model.embed_tokens.weight", dtype, (vocab, hidden))]
    for i in range(layers):
        p = f"model.layers.{i}."
        t += [(p + "self_attn.q_proj.weight", dtype, (hidden, hidden)),
              (p + "self_attn.k_proj.weight", dtype, (kv * head_dim, hidden)),
              (p + "self_attn.v_proj.weight", dtype, (kv * head_dim, hidden)),
              (p + "self_attn.o_proj.weight", dtype, (hidden, hidden)),
              (p + "mlp.gate_proj.weight", dtype, (inter, hidden)),
              (p + "mlp.up_proj.weight", dtype, (inter, hidden)),
              (p + "mlp.down_proj.weight", dtype, (hidden, inter)),
              (p + "input_layernorm.weight", dtype, (hidden,)),
              (p + "post_attention_layernorm.weight", dtype, (hidden,))]
    t.append(("model.norm.weight", dtype, (hidden,)))
    if not tied:
        t.append(("lm_head.weight", dtype, (vocab, hidden)))
    return t


def encoder_like(prefix: str, layers: int, d: int, ffn: int, vocab: int, positions: int,
                 dtype: str = "F32") -> List[Tensor]:
    t: List[Tensor] = [(f"{prefix}embeddings.word_embeddings.weight", dtype, (vocab, d)),
                       (f"{prefix}embeddings.position_embeddings.weight", dtype, (positions, d))]
    for i in range(layers):
        p = f"{prefix}layers.{i}."
        for m in ("q", "k", "v", "out"):
            t += [(p + f"attn.{m}_proj.weight", dtype, (d, d)), (p + f"attn.{m}_proj.bias", dtype, (d,))]
        t += [(p + "fc1.weight", dtype, (ffn, d)), (p + "fc1.bias", dtype, (ffn,)),
              (p + "fc2.weight", dtype, (d, ffn)), (p + "fc2.bias", dtype, (d,)),
              (p + "ln1.weight", dtype, (d,)), (p + "ln1.bias", dtype, (d,)),
              (p + "ln2.weight", dtype, (d,)), (p + "ln2.bias", dtype, (d,))]
    return t


def shard(tensors: List[Tensor], n: int) -> List[List[Tensor]]:
    total = sum(n_params([t]) for t in tensors)
    out: List[List[Tensor]] = [[] for _ in range(n)]
    acc = 0
    for t in tensors:
        idx = min(n - 1, acc * n // total)
        out[idx].append(t)
        acc += n_params([t])
    return out


# ----------------------------------------------------------------------------- HF cache writer
Content = Union[bytes, Tuple[bytes, int]]   # bytes, or (sparse head, total size)


def _commit(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def hf_repo(hub: str, repo_type: str, repo_id: str, files: Dict[str, Content], commit: Optional[str] = None,
            refs: Optional[Dict[str, str]] = None, old_revisions: Sequence[Tuple[str, Dict[str, Content]]] = ()) -> str:
    """Write one repo in huggingface_hub cache layout; returns the repo dir."""
    repo = os.path.join(hub, f"{repo_type}s--" + repo_id.replace("/", "--"))
    blobs = os.path.join(repo, "blobs")
    os.makedirs(blobs, exist_ok=True)
    commit = commit or _commit(repo_id + "main")

    def write_snapshot(rev: str, files: Dict[str, Content]) -> None:
        for rel, content in files.items():
            if isinstance(content, tuple):
                head, total = content
                blob = hashlib.sha256(head + rel.encode() + str(total).encode()).hexdigest()
                bpath = os.path.join(blobs, blob)
                if not os.path.exists(bpath):
                    write_sparse(bpath, head, total)
            else:
                blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
                bpath = os.path.join(blobs, blob)
                if not os.path.exists(bpath):
                    with open(bpath, "wb") as f:
                        f.write(content)
            link = os.path.join(repo, "snapshots", rev, rel)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            target = os.path.relpath(bpath, os.path.dirname(link))   # ../../blobs/<hash>
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(target, link)

    for rev, rev_files in old_revisions:
        write_snapshot(rev, rev_files)
    write_snapshot(commit, files)
    for ref, target in ({"main": commit} if refs is None else refs).items():
        p = os.path.join(repo, "refs", ref)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(target)
    os.makedirs(os.path.join(hub, ".locks", os.path.basename(repo)), exist_ok=True)
    return repo


def _j(obj) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode()


def _card(license: str, tags: List[str], pipeline: Optional[str], title: str, body: str) -> bytes:
    fm = ["---", f"license: {license}", "tags:"] + [f"- {t}" for t in tags]
    if pipeline:
        fm.append(f"pipeline_tag: {pipeline}")
    fm.append("---")
    return ("\n".join(fm) + f"\n\n# {title}\n\n{body}\n").encode()


def sharded_model(tensors: List[Tensor], n: int) -> Tuple[Dict[str, Content], int]:
    files: Dict[str, Content] = {}
    weight_map: Dict[str, str] = {}
    total_size = 0
    for i, part in enumerate(shard(tensors, n), 1):
        name = f"model-{i:05d}-of-{n:05d}.safetensors"
        head, data = safetensors_header(part)
        files[name] = (head, len(head) + data)
        total_size += data
        for t in part:
            weight_map[t[0]] = name
    files["model.safetensors.index.json"] = _j({"metadata": {"total_size": total_size}, "weight_map": weight_map})
    return files, total_size


TOKENIZER = _j({"version": "1.0", "model": {"type": "BPE", "vocab": {"<s>": 0, "</s>": 1}}})


def build_hf_cache(hub: str) -> Dict[str, int]:
    """Write the HF part of the sample; returns {repo_id: expected parameter count}."""
    expected: Dict[str, int] = {}
    # Meta-Llama-3-8B: 4 shards + index (8,030,261,248 params, bf16)
    t = llama_like(32, 4096, 14336, 8, 32, 128256)
    files, _ = sharded_model(t, 4)
    files.update({
        "config.json": _j({"architectures": ["LlamaForCausalLM"], "attention_bias": False, "bos_token_id": 128000,
                           "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096,
                           "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 8192,
                           "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
                           "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                           "tie_word_embeddings": False, "torch_dtype": "bfloat16",
                           "transformers_version": "4.40.0.dev0", "use_cache": True, "vocab_size": 128256}),
        "generation_config.json": _j({"bos_token_id": 128000, "eos_token_id": 128001, "do_sample": True,
                                      "temperature": 0.6, "top_p": 0.9}),
        "tokenizer.json": TOKENIZER, "tokenizer_config.json": _j({"model_max_length": 1000000000000000019884624838656}),
        "special_tokens_map.json": _j({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}),
        "README.md": _card("llama3", ["facebook", "meta", "pytorch", "llama", "llama-3"], "text-generation",
                           "Meta Llama 3", "Meta developed and released the Meta Llama 3 family of large language "
                           "models (LLMs), pretrained and instruction tuned generative text models in 8 and 70B sizes."),
        "LICENSE": b"META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n",
        "USE_POLICY.md": b"# Meta Llama 3 Acceptable Use Policy\n",
        "original/params.json": _j({"dim": 4096, "n_layers": 32, "n_heads": 32, "n_kv_heads": 8,
                                    "vocab_size": 128256, "rope_theta": 500000.0}),
    })
    hf_repo(hub, "model", "meta-llama/Meta-Llama-3-8B", files, commit="62bd457b6fe961a42a631306577e622c83876cb6")
    expected["meta-llama/Meta-Llama-3-8B"] = n_params(t)

    # Mistral-7B-Instruct-v0.3: 3 shards, two snapshots (main + an older one without ref)
    t = llama_like(32, 4096, 14336, 8, 32, 32768)
    files, _ = sharded_model(t, 3)
    cfg = {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
           "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
           "num_hidden_layers": 32, "num_key_value_heads": 8, "rope_theta": 1000000.0, "sliding_window": None,
           "torch_dtype": "bfloat16", "vocab_size": 32768}
    files.update({"config.json": _j(cfg), "tokenizer.json": TOKENIZER, "params.json": _j({"dim": 4096}),
                  "README.md": _card("apache-2.0", ["mistral", "conversational"], "text-generation",
                                     "Model Card for Mistral-7B-Instruct-v0.3",
                                     "The Mistral-7B-Instruct-v0.3 Large Language Model (LLM) is an instruct "
                                     "fine-tuned version of the Mistral-7B-v0.3.")})
    old = _commit("mistral-old")
    hf_repo(hub, "model", "mistralai/Mistral-7B-Instruct-v0.3", files,
            commit="e0bc86c23ce5aae1db576c8cca6f06f1f73af2db",
            refs={"main": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db", "refs/pr/42": old},
            old_revisions=[(old, {"config.json": _j(dict(cfg, torch_dtype="float16"))})])
    expected["mistralai/Mistral-7B-Instruct-v0.3"] = n_params(t)

    # whisper-small: one model.safetensors (header count), float32
    t = encoder_like("model.encoder.", 12, 768, 3072, 51865, 1500) + encoder_like("model.decoder.", 12, 768, 3072, 0, 448)
    t = [x for x in t if 0 not in x[2]]
    head, data = safetensors_header(t)
    hf_repo(hub, "model", "openai/whisper-small", {
        "config.json": _j({"architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper",
                           "d_model": 768, "encoder_layers": 12, "decoder_layers": 12, "max_source_positions": 1500,
                           "max_target_positions": 448, "torch_dtype": "float32", "vocab_size": 51865}),
        "model.safetensors": (head, len(head) + data),
        "preprocessor_config.json": _j({"feature_extractor_type": "WhisperFeatureExtractor", "sampling_rate": 16000}),
        "tokenizer.json": TOKENIZER,
        "README.md": _card("apache-2.0", ["audio", "automatic-speech-recognition"], "automatic-speech-recognition",
                           "Whisper", "Whisper is a pre-trained model for automatic speech recognition (ASR) and speech translation."),
    })
    expected["openai/whisper-small"] = n_params(t)

    # bert-base-uncased: one model.safetensors, float32
    t = encoder_like("bert.", 12, 768, 3072, 30522, 512)
    head, data = safetensors_header(t)
    hf_repo(hub, "model", "google-bert/bert-base-uncased", {
        "config.json": _j({"architectures": ["BertForMaskedLM"], "model_type": "bert", "hidden_size": 768,
                           "num_hidden_layers": 12, "max_position_embeddings": 512, "vocab_size": 30522,
                           "torch_dtype": "float32", "type_vocab_size": 2}),
        "model.safetensors": (head, len(head) + data),
        "tokenizer.json": TOKENIZER, "vocab.txt": b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n",
        "README.md": _card("apache-2.0", ["exbert"], "fill-mask", "BERT base model (uncased)",
                           "Pretrained model on English language using a masked language modeling (MLM) objective."),
    })
    expected["google-bert/bert-base-uncased"] = n_params(t)

    # opus-mt-en-fi: only pytorch_model.bin -> no parameter count
    hf_repo(hub, "model", "Helsinki-NLP/opus-mt-en-fi", {
        "config.json": _j({"architectures": ["MarianMTModel"], "model_type": "marian", "d_model": 512,
                           "encoder_layers": 6, "decoder_layers": 6, "max_position_embeddings": 512,
                           "vocab_size": 60000, "torch_dtype": "float32"}),
        "pytorch_model.bin": (b"PK\x03\x04", 300_000_000),
        "source.spm": b"spm", "target.spm": b"spm", "vocab.json": _j({"<pad>": 0}),
        "README.md": _card("apache-2.0", ["translation"], "translation", "opus-mt-en-fi",
                           "English to Finnish machine translation model from OPUS-MT."),
    })

    # datasets in the hub cache
    hf_repo(hub, "dataset", "uoft-cs/cifar10", {
        "plain_text/train-00000-of-00001.parquet": (b"PAR1", 120_000_000),
        "plain_text/test-00000-of-00001.parquet": (b"PAR1", 24_000_000),
        "README.md": _card("unknown", ["image-classification"], None, "Dataset Card for CIFAR-10",
                           "The CIFAR-10 dataset consists of 60000 32x32 colour images in 10 classes."),
    })
    hf_repo(hub, "dataset", "Salesforce/wikitext", {
        "wikitext-103-raw-v1/train-00000-of-00002.parquet": (b"PAR1", 157_000_000),
        "wikitext-103-raw-v1/train-00001-of-00002.parquet": (b"PAR1", 157_000_000),
        "wikitext-103-raw-v1/validation-00000-of-00001.parquet": (b"PAR1", 650_000),
        "README.md": _card("cc-by-sa-3.0", ["language-modeling"], None, "Dataset Card for wikitext",
                           "The WikiText language modeling dataset is a collection of over 100 million tokens."),
    })
    with open(os.path.join(hub, "version.txt"), "w") as f:
        f.write("1")
    return expected


# ----------------------------------------------------------------------------- folders
def _stripes_png(width: int, height: int) -> bytes:
    """A small valid PNG (coloured vertical stripes) for README images."""
    colours = [(0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (0x2c, 0xa0, 0x2c), (0xd6, 0x27, 0x28)]
    row = b"\x00" + b"".join(bytes(colours[(x * len(colours)) // width]) for x in range(width))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def _touch(path: str, data: bytes = b"") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


IMAGENET_CLASSES = ["n01440764", "n01443537", "n01484850", "n01491361", "n01494475"]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


def build_folders(root: str) -> None:
    im = os.path.join(root, "imagenet")
    os.makedirs(im, exist_ok=True)
    write_sparse(os.path.join(im, "ILSVRC2012_img_train.tar"), b"", 147_897_477_120)
    write_sparse(os.path.join(im, "ILSVRC2012_img_val.tar"), b"", 6_744_924_160)
    write_sparse(os.path.join(im, "imagenet21k_resized.tar.gz"), b"\x1f\x8b", 260_000_000_000)
    dk = os.path.join(im, "ILSVRC2012_devkit_t12")
    _touch(os.path.join(dk, "data", "meta.mat"), b"MATLAB 5.0 MAT-file")
    _touch(os.path.join(dk, "data", "ILSVRC2012_validation_ground_truth.txt"), b"490\n361\n171\n")
    _touch(os.path.join(dk, "COPYING"), b"Copyright ImageNet\n")
    _touch(os.path.join(dk, "readme.txt"), b"ILSVRC2012 devkit\n")
    for split, per in (("train", 4), ("val", 2)):
        for c in IMAGENET_CLASSES:
            for i in range(per):
                name = f"{c}_{10026 + i}.JPEG" if split == "train" else f"ILSVRC2012_val_{(IMAGENET_CLASSES.index(c) * 10 + i + 1):08d}.JPEG"
                _touch(os.path.join(im, split, c, name), JPEG)
    _touch(os.path.join(im, "README.md"),
           b"# ImageNet (ILSVRC 2012)\n\nThe ILSVRC 2012 classification data: 1.28 M training images and 50 000 "
           b"validation images in 1000 classes, as the original tars and extracted class folders.\n\n"
           b"## Use\n\nCopy to `/tmp/$SLURM_JOB_ID` before training.\n\n"
           b"![One colour per class group](docs/class-groups.png)\n")
    _touch(os.path.join(im, "docs", "class-groups.png"), _stripes_png(96, 12))
    _touch(os.path.join(im, "LICENSE"), b"ImageNet terms of access: non-commercial research and education only.\n")
    _touch(os.path.join(im, ".tritonml.toml"), b'name = "ImageNet ILSVRC-2012"\n'
           b'description = "ImageNet-1k: 1.28 M training and 50 k validation images, 1000 classes (tars and class folders)."\n'
           b'license = "ImageNet terms of access (non-commercial)"\n'
           b'citation = "Russakovsky et al., ImageNet Large Scale Visual Recognition Challenge, IJCV 2015"\n'
           b'url = "https://image-net.org"\ntags = ["vision", "classification", "imagenet"]\n')

    wds = os.path.join(root, "imagenet-1k-wds")
    os.makedirs(wds, exist_ok=True)
    for split, n in (("train", 8), ("validation", 2)):
        for s in range(n):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tf:
                for k in range(3):
                    key = f"{split}_{s:04d}_{k:06d}"
                    for ext, data in (("jpg", JPEG), ("cls", str((s * 3 + k) % 1000).encode())):
                        ti = tarfile.TarInfo(f"{key}.{ext}")
                        ti.size = len(data)
                        ti.mtime = 1700000000
                        tf.addfile(ti, io.BytesIO(data))
            _touch(os.path.join(wds, f"imagenet1k-{split}-{s:04d}.tar"), buf.getvalue())
    _touch(os.path.join(wds, "README.md"), b"# ImageNet-1k in WebDataset format\n\nImageNet-1k as WebDataset tar "
           b"shards (jpg + cls), from timm/imagenet-1k-wds. Stream the shards directly from scratch.\n")
    _touch(os.path.join(wds, "LICENSE"), b"ImageNet terms of access.\n")

    laion = os.path.join(root, "laion400M")
    os.makedirs(os.path.join(laion, "laion400m-meta"), exist_ok=True)
    for i in range(4):
        name = f"part-{i:05d}-5b54c5d5-bbcf-484d-a2ce-0d6f73df1a36-c000.snappy.parquet"
        write_sparse(os.path.join(laion, "laion400m-meta", name), b"PAR1", 1_800_000_000)
    _touch(os.path.join(laion, "README.md"), b"# LAION-400M\n\nMetadata (URL, caption, CLIP similarity) of 400 M "
           b"image-text pairs as parquet. Images are not included.\n")

    llama2 = os.path.join(root, "llama-2")
    for size, gb in (("7b", 13_476_925_163), ("13b", 26_031_728_971)):
        d = os.path.join(llama2, f"llama-2-{size}")
        os.makedirs(d, exist_ok=True)
        write_sparse(os.path.join(d, "consolidated.00.pth"), b"PK\x03\x04", gb)
        _touch(os.path.join(d, "params.json"), _j({"dim": 4096, "multiple_of": 256, "n_heads": 32, "n_layers": 32,
                                                    "norm_eps": 1e-05, "vocab_size": -1}))
    _touch(os.path.join(llama2, "tokenizer.model"), b"\x0a\x0b")
    _touch(os.path.join(llama2, "LICENSE.txt"), b"LLAMA 2 COMMUNITY LICENSE AGREEMENT\n")
    _touch(os.path.join(llama2, "README.md"), b"# Llama 2\n\nOriginal Meta checkpoints of Llama 2 (7B, 13B) in the "
           b"consolidated PyTorch format. For transformers use the HF cache instead.\n")

    maestro = os.path.join(root, "maestro", "maestro-v3.0.0")
    for i in range(3):
        _touch(os.path.join(maestro, "2004", f"MIDI-Unprocessed_SMF_02_R1_2004_01-05_ORIG_MID--AUDIO_02_R1_2004_0{i}_Track0{i}_wav.midi"), b"MThd")
        write_sparse(os.path.join(maestro, "2004", f"MIDI-Unprocessed_SMF_02_R1_2004_01-05_ORIG_MID--AUDIO_02_R1_2004_0{i}_Track0{i}_wav.wav"), b"RIFF", 50_000_000)
    _touch(os.path.join(maestro, "maestro-v3.0.0.csv"), b"canonical_composer,canonical_title,split\n")
    _touch(os.path.join(root, "maestro", "README.md"), b"# MAESTRO v3.0.0\n\nAbout 200 hours of virtuosic piano "
           b"performances with aligned MIDI and audio.\n")
    _touch(os.path.join(root, "maestro", "LICENSE"), b"CC BY-NC-SA 4.0\n")


ROOT_METADATA = b'''# Catalog overrides for entries whose directories admins prefer not to touch.
[entries."huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B"]
tags = ["llm", "gated"]
citation = "Meta AI, The Llama 3 Herd of Models, 2024"
'''


def generate_sample(dest: str) -> Dict[str, int]:
    """The realistic sample tree; returns expected parameter counts by repo id."""
    os.makedirs(dest, exist_ok=True)
    hub = os.path.join(dest, "huggingface-hub-cache", "hub")
    os.makedirs(hub, exist_ok=True)
    expected = build_hf_cache(hub)
    build_folders(dest)
    _touch(os.path.join(dest, ".tritonml-catalog.toml"), ROOT_METADATA)
    return expected


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tritonml_lab.tests.sample_tree", description=__doc__.split("\n\n")[0])
    ap.add_argument("dest")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    expected = generate_sample(args.dest)
    print(f"sample dldata tree at {args.dest} ({time.monotonic() - t0:.1f} s); parameters:")
    for repo, n in expected.items():
        print(f"  {repo}: {n:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
