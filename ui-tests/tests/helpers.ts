import { expect } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

/** Switch JupyterLab's theme (and wait until it applies). */
export async function setTheme(page: Page, theme: string): Promise<void> {
  await page.evaluate(async name => {
    await window.jupyterapp.commands.execute('apputils:change-theme', { theme: name });
  }, theme);
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-name', theme);
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
}

/** Screenshots for people reviewing the look, without the toasts of other jobs on top. */
export async function shoot(page: Page, path: string): Promise<void> {
  await page.addStyleTag({ content: '.Toastify { display: none !important; }' });
  await page.screenshot({ path });
}
