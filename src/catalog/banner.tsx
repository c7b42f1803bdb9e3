/** The banners of the shared data sidebar: a failed request, and roots that did not answer. */
import * as React from 'react';

import { APIError } from '../api';

export function ErrorBanner({ title, error, stale }: { title: string; error: APIError; stale?: boolean }): JSX.Element {
  return (
    <div className="tml-Banner tml-Banner--error" role="alert">
      <strong>{title}</strong>
      <p>{error.message}</p>
      {stale && <p className="tml-muted">Showing the last answer.</p>}
    </div>
  );
}

/** The server's warnings (a shared folder that is not answering); the list below still works. */
export function WarningBanner({ warnings }: { warnings: string[] }): JSX.Element | null {
  if (warnings.length === 0) {
    return null;
  }
  return (
    <div className="tml-Banner tml-CatalogWarning" role="status">
      {warnings.map(w => (
        <p key={w}>{w}</p>
      ))}
    </div>
  );
}
