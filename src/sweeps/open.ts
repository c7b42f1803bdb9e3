/**
 * Opening a sweep from anywhere (the jobs sidebar's detail, the notebook widget) without importing the
 * application: the sweeps plugin registers the opener once, as src/widget/context.ts does for widgets.
 */
let opener: ((id: string) => void) | null = null;

export function setSweepOpener(open: (id: string) => void): void {
  opener = open;
}

/** Open sweep `id` in its main-area tab; false when no opener is registered. */
export function openSweep(id: string): boolean {
  if (!opener) {
    return false;
  }
  opener(id);
  return true;
}

export function canOpenSweeps(): boolean {
  return opener !== null;
}
