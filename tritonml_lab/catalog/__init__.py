"""Shared datasets and models catalog (domain logic; no Tornado here).

>>> cat = Catalog([("dldata", "/scratch/shareddata/dldata")], cache_path="~/.cache/.../catalog-sizes.json")
>>> cat.start_background_scan()
>>> cat.list(kind="model", q="llama")      # never blocks on the size scan
>>> cat.get("dldata/imagenet")             # EntryDetail with README, files, snippets
"""
from .catalog import DEFAULT_ROOTS, Catalog
from .models import (CatalogListing, CatalogRoot, DatasetInfo, EntryDetail, EntrySummary, FilesSummary,
                     HFInfo, Metadata, Snippets)
from .safety import BadEntryId, CatalogError, EntryNotFound, InvalidQuery, validate_id

__all__ = [
    "Catalog", "DEFAULT_ROOTS", "CatalogListing", "CatalogRoot", "DatasetInfo", "EntryDetail",
    "EntrySummary", "FilesSummary", "HFInfo", "Metadata", "Snippets", "BadEntryId", "CatalogError",
    "EntryNotFound", "InvalidQuery", "validate_id",
]
