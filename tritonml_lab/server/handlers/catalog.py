"""The shared datasets and models catalog: listing, one entry, and the images its README shows."""

from __future__ import annotations

from ..api_models import CatalogImageQuery, CatalogQuery
from ...catalog import CatalogListing, EntryDetail
from .base import BaseHandler, endpoint

_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")


class CatalogListHandler(BaseHandler):
    @endpoint(summary="Shared datasets and models, filtered.",
              description="Listed from names and the persisted cache (one scandir per root, one lstat per "
              "entry, nothing inside entries); details and sizes fill in from the background (details_status, "
              "size_status). A root that does not answer in time becomes one of `warnings`, the other roots "
              "are still listed.",
              response=CatalogListing, query=CatalogQuery, errors=(400,))
    async def get(self) -> None:
        filters = self.query(CatalogQuery).model_dump()
        # Filesystem calls run in the catalog's own bounded pool, with a time-out (never the default
        # executor, which job submission needs).
        self.write_model(await self.services.catalog.listing_async(**filters))


class CatalogEntryHandler(BaseHandler):
    @endpoint(summary="One entry with metadata, files summary, README and usage snippets.",
              response=EntryDetail, errors=(400, 404, 504))
    async def get(self, entry_id: str) -> None:
        self.write_model(await self.services.catalog.get_async(entry_id))


class CatalogImageHandler(BaseHandler):
    """An image a catalog README shows by a relative path (the README renders in the sidebar)."""

    @endpoint(summary="An image that an entry's README links to by a relative path (e.g. `images/arch.png`).",
              description="Only .png/.jpg/.jpeg/.gif/.webp/.svg files below the README's folder, inside the "
              "entry, up to 5 MB.",
              query=CatalogImageQuery, errors=(400, 404, 504),
              other_responses={200: ("The image bytes", _IMAGE_TYPES)})
    async def get(self) -> None:
        query = self.query(CatalogImageQuery)  # the catalog checks both (ids, paths inside the entry)
        data, mime = await self.services.catalog.readme_image_async(query.id, query.path)
        self.set_header("X-Content-Type-Options", "nosniff")
        # An SVG opened on its own must not run scripts with the server's origin.
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        self.set_header("Cache-Control", "private, max-age=300")
        self.finish(data, set_content_type=mime)
