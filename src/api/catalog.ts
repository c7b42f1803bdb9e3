/** Shared datasets and models (GET catalog, catalog/{id}, catalog-image). Types from the generated schema. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, queryString, requestAPI, Schemas } from './http';
import type { paths } from './schema';

export type ICatalogEntry = Schemas['EntrySummary'];
export type CatalogKind = ICatalogEntry['kind'];
export type ICatalogListing = Schemas['CatalogListing'];
export type ICatalogQuery = NonNullable<paths['/catalog']['get']['parameters']['query']>;
export type IHFInfo = Schemas['HFInfo'];
export type IDatasetInfo = Schemas['DatasetInfo'];
export type ICatalogSnippets = Schemas['Snippets'];
export type ICatalogEntryDetail = Schemas['EntryDetail'];

export const CatalogClient = {
  catalog(query: ICatalogQuery = {}, settings?: ServerConnection.ISettings): Promise<ICatalogListing> {
    return requestAPI<ICatalogListing>('catalog' + queryString({ ...query }), {}, settings);
  },

  catalogEntry(id: string, settings?: ServerConnection.ISettings): Promise<ICatalogEntryDetail> {
    // Ids are "<root label>/<relative path>": keep the slashes, escape everything else.
    const path = id.split('/').map(encodeURIComponent).join('/');
    return requestAPI<ICatalogEntryDetail>('catalog/' + path, {}, settings);
  },

  /** Where the browser loads an image a README links to by a relative path (an <img> src). */
  catalogImageUrl(
    id: string,
    path: string,
    settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ): string {
    return URLExt.join(settings.baseUrl, API_NAMESPACE, 'catalog-image') + queryString({ id, path });
  }
};
