"""Pydantic v2 models of the catalog API (what ``GET tritonml/catalog`` and ``.../{id}`` return).

``Optional[...]`` is used rather than ``X | None`` so the models work on Python 3.9.
"""
from __future__ import annotations

from typing import Dict, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["model", "dataset"]
SizeStatus = Literal["pending", "ready", "error"]
DetailsStatus = Literal["pending", "ready", "stalled", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogRoot(_Model):
    label: str
    path: str


class Metadata(_Model):
    """Admin overrides (see :mod:`.metadata`); every field optional."""

    name: Optional[str] = None
    kind: Optional[Kind] = None
    description: Optional[str] = None
    license: Optional[str] = None
    citation: Optional[str] = None
    url: Optional[str] = None
    tags: Optional[List[str]] = None
    hidden: Optional[bool] = None
    source: Optional[str] = Field(default=None, description="file the overrides came from")


class Revision(_Model):
    commit: str
    refs: List[str] = []
    file_count: Optional[int] = None


class HFInfo(_Model):
    repo_id: str
    repo_type: Literal["model", "dataset"]
    hub_dir: str
    hf_home: Optional[str] = Field(default=None, description="set HF_HOME to this (None: use HF_HUB_CACHE=hub_dir)")
    revisions: List[Revision] = []
    default_revision: Optional[str] = Field(default=None, description="commit used for files/config (refs/main if present)")
    architectures: List[str] = []
    model_type: Optional[str] = None
    torch_dtype: Optional[str] = None
    context_length: Optional[int] = None
    hidden_size: Optional[int] = None
    num_layers: Optional[int] = None
    vocab_size: Optional[int] = None
    num_parameters: Optional[int] = None
    parameter_source: Optional[Literal["safetensors-index", "safetensors-header"]] = None
    files: List[str] = Field(default=[], description="files of the default revision (bounded)")


class ShardInfo(_Model):
    directory: str
    count: int
    pattern: Optional[str] = Field(default=None, description="brace pattern, e.g. train-{000000..000146}.tar")
    examples: List[str] = []


class DatasetInfo(_Model):
    layouts: List[str] = Field(default=[], description="imagefolder, ilsvrc-tars, webdataset, parquet, tar, ...")
    formats: Dict[str, int] = Field(default={}, description="extension -> count in the bounded look")
    splits: List[str] = []
    class_dirs: Optional[int] = Field(default=None, description="class directories seen under the train split (bounded)")
    shards: List[ShardInfo] = []
    archives: List[str] = []
    sampled: bool = Field(default=True, description="formats come from a bounded look, not a full walk")


class FileItem(_Model):
    name: str
    is_dir: bool
    size_bytes: Optional[int] = None


class FilesSummary(_Model):
    top_level: List[FileItem] = []
    top_level_truncated: bool = False
    formats: Dict[str, int] = Field(default={}, description="extension -> count (exact once scanned)")
    formats_exact: bool = False
    file_count: Optional[int] = None
    dir_count: Optional[int] = None
    size_bytes: Optional[int] = None
    disk_bytes: Optional[int] = None


class Snippets(_Model):
    python: str
    batch: str
    path: str


class EntrySummary(_Model):
    id: str
    kind: Kind
    name: str
    root: str = Field(description="root label")
    path: str
    source: Literal["huggingface", "folder"]
    size_bytes: Optional[int] = Field(default=None, description="apparent size; None while computing")
    disk_bytes: Optional[int] = None
    file_count: Optional[int] = None
    size_status: SizeStatus = "pending"
    details_status: DetailsStatus = Field(
        default="ready", description="pending: listed from its name, details still being read; stalled: its "
        "folder has not answered for longer than the time-out")
    description: Optional[str] = None
    license: Optional[str] = None
    tags: List[str] = []
    formats: List[str] = []
    repo_id: Optional[str] = None
    num_parameters: Optional[int] = None


class EntryDetail(EntrySummary):
    metadata: Optional[Metadata] = None
    citation: Optional[str] = None
    url: Optional[str] = None
    hf: Optional[HFInfo] = None
    dataset: Optional[DatasetInfo] = None
    files: FilesSummary = FilesSummary()
    readme: Optional[str] = None
    readme_path: Optional[str] = None
    readme_truncated: bool = False
    license_path: Optional[str] = None
    snippets: Snippets
    scanned_at: Optional[float] = None


class CatalogListing(_Model):
    entries: List[EntrySummary]
    scanning: bool = Field(default=False, description="details or sizes are still being computed")
    pending: int = Field(default=0, description="entries whose size is still being computed")
    detecting: int = Field(default=0, description="entries whose details are still being read")
    warnings: List[str] = Field(default=[], description="roots that did not answer, as messages for people")
