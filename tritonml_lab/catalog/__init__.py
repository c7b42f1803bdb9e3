"""Shared datasets and models catalog (domain logic; no Tornado here).

>>> cat = Catalog([("dldata", "/scratch/shareddata/dldata")], cache_path="~/.cache/.../catalog-cache.json")
>>> cat.start_background_scan()            # detection threads and size workers
>>> cat.list(kind="model", q="llama")      # from names and the cache; never waits for the background
>>> cat.get("dldata/imagenet")             # EntryDetail with README, files, snippets
>>> await cat.listing_async()              # the server's way: bounded pool, time-out per request
"""
from .catalog import Catalog
from .isolation import CatalogTimeout
from .roots import DEFAULT_ROOTS
from .models import (CatalogListing, CatalogRoot, DatasetInfo, EntryDetail, EntrySummary, FilesSummary,
                     HFInfo, Metadata, Snippets)
from .safety import BadEntryId, CatalogError, EntryNotFound, InvalidQuery, validate_id

__all__ = [
    "Catalog", "DEFAULT_ROOTS", "CatalogListing", "CatalogRoot", "DatasetInfo", "EntryDetail",
    "EntrySummary", "FilesSummary", "HFInfo", "Metadata", "Snippets", "BadEntryId", "CatalogError",
    "EntryNotFound", "InvalidQuery", "validate_id", "CatalogTimeout",
]
