import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

/**
 * "Run on GPU" end to end against the real local Slurm cluster (dev/cluster up): a notebook with a
 * `parameters` cell is sent from its toolbar button, with n set to 5 in the dialog; it runs headless
 * on csl1 (the local GPU nodes are fake, so the test uses the CPU partition), shows its banner and
 * its row in the Jobs panel, and its notification opens the executed copy, where n * 2 printed 10.
 */

async function setTheme(page: Page, theme: string): Promise<void> {
  await page.evaluate(async name => {
    await window.jupyterapp.commands.execute('apputils:change-theme', { theme: name });
  }, theme);
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-name', theme);
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
}

/** Screenshots for people reviewing the look, without the toasts of other jobs on top. */
async function shoot(page: Page, path: string, toasts = false): Promise<void> {
  const style = toasts ? null : await page.addStyleTag({ content: '.Toastify { display: none !important; }' });
  await page.screenshot({ path });
  await style?.evaluate(node => node.remove());
}

const NAME = 'rungpu.ipynb';

async function openAndFill(page: Page): Promise<void> {
  await page.locator('.jp-NotebookPanel-toolbar .tml-RunOnGpuButton .jp-ToolbarButtonComponent').click();
  const dialog = page.locator('.tml-RunNotebookDialog');
  await expect(dialog).toBeVisible();
  // The kernel is the notebook's own, checked by the server.
  await expect(dialog.locator('.tml-Field[data-field="kernel"]')).toContainText('installed where jobs run');
  // The parameters cell's variable, with its default.
  const n = dialog.locator('input[name="param-n"]');
  await expect(n).toHaveValue('3');
  await dialog.locator('.tml-Preset[data-preset="cpu-30m"]').click();
  await expect(dialog.locator('.tml-Preset[data-preset="cpu-30m"]')).toHaveAttribute('aria-checked', 'true');
  await expect(dialog.locator('select[name="partition"] option[value="batch-csl"]')).toHaveCount(1);
  await dialog.locator('select[name="partition"]').selectOption('batch-csl');
  await expect(dialog.locator('input[name="gpuCount"]')).toHaveValue('0');
  // A value that is not JSON is marked at once; a number is fine.
  await n.fill('five');
  await expect(dialog.locator('.tml-Param[data-param="n"] .tml-Field-error')).toContainText('quotes');
  await n.fill('5');
  await expect(dialog.locator('.tml-Param[data-param="n"] .tml-Field-error')).toHaveCount(0);
}

test('Run on GPU: a parameterised notebook runs as a job and its result opens', async ({ page }, testInfo) => {
  test.setTimeout(300000);
  await page.notebook.createNew(NAME);
  await page.notebook.setCell(0, 'code', 'n = 3');
  await page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget as any;
    panel.content.widgets[0].model.setMetadata('tags', ['parameters']);
  });
  await page.notebook.addCell('code', 'print(n * 2)');
  // A slower last cell, so the banner can be seen (and photographed) while a cell runs. With the
  // cell of injected parameters the run has 4 code cells.
  await page.notebook.addCell('code', 'import time\ntime.sleep(12)');
  await page.notebook.save();

  await openAndFill(page);
  await shoot(page, testInfo.outputPath('run-dialog-light.png'));
  // Closing forgets nothing that was not submitted; the dark theme gets its own picture.
  await page.locator('.tml-RunNotebookDialog .jp-Dialog-button.jp-mod-reject').click();
  await expect(page.locator('.tml-RunNotebookDialog')).toHaveCount(0);
  await setTheme(page, 'JupyterLab Dark');
  await openAndFill(page);
  await shoot(page, testInfo.outputPath('run-dialog-dark.png'));

  await page.locator('.tml-RunNotebookDialog .jp-Dialog-button.jp-mod-accept').click();
  await expect(page.locator('.tml-RunNotebookDialog')).toHaveCount(0);

  // The banner on the notebook, fed by the jobs model and the progress poll.
  const banner = page.locator('.jp-NotebookPanel .tml-NotebookJobBanner-body');
  await expect(banner).toBeVisible({ timeout: 30000 });
  const id = await banner.getAttribute('data-job-id');
  expect(id).toMatch(/^\d+$/);
  await expect(banner).toContainText(`job ${id}`);

  // The job is in the Jobs panel, marked as a notebook run.
  const panel = page.locator('#tritonml-jobs');
  await expect(panel).toBeVisible();
  const row = panel.locator(`.tml-JobRow[data-job-id="${id}"]`);
  await expect(row).toBeVisible();
  await expect(row.locator('.tml-NotebookRowProgress-kind')).toHaveText('notebook');

  await expect(banner).toContainText(/Running as job \d+ on csl1 — cell 4 of 4/, { timeout: 90000 });
  await expect(row.locator('.tml-NotebookRowProgress-cell')).toContainText('cell 4 of 4');
  await shoot(page, testInfo.outputPath('banner-dark.png'));
  await setTheme(page, 'JupyterLab Light');
  await shoot(page, testInfo.outputPath('banner-light.png'));

  // When it ends: the banner goes, the row is COMPLETED, the notification offers the result.
  await expect(row).toHaveAttribute('data-state', 'COMPLETED', { timeout: 120000 });
  await expect(page.locator('.jp-NotebookPanel .tml-NotebookJobBanner')).toBeHidden();

  // The detail shows the run: all cells done, and its own "Open result".
  await row.click();
  const run = panel.locator('.tml-NotebookRun');
  await expect(run).toHaveAttribute('data-status', 'completed');
  await expect(run.locator('.tml-NotebookRun-progress')).toHaveText('4 of 4 cells');
  await expect(run).toContainText('n=5');
  await expect(run.locator('.tml-NotebookRun-open')).toBeVisible();

  // The notification offers the result. Other jobs' notifications (a sweep's thousand tasks,
  // when other tests share the cluster) may hold its toast in the queue: the center has it too.
  let open = page.locator('.Toastify .jp-toast-button', { hasText: 'Open result' });
  const toasted = await open.waitFor({ state: 'visible', timeout: 20000 }).then(
    () => true,
    () => false
  );
  if (toasted) {
    await shoot(page, testInfo.outputPath('notification-light.png'), true);
  } else {
    await page.locator('.jp-Notification-Status').click();
    open = page
      .locator('.jp-Notification-Center .jp-Notification-List-Item', { hasText: `job ${id})` })
      .locator('.jp-toast-button', { hasText: 'Open result' })
      .first();
    await expect(open).toBeVisible();
  }
  await open.click();
  const result = page.locator('.jp-NotebookPanel:visible');
  await expect(page.locator(`.lm-TabBar-tab.jp-mod-current .lm-TabBar-tabLabel`)).toHaveText(`rungpu.${id}.ipynb`);
  await expect(result.locator('.jp-OutputArea-output').first()).toContainText('10');
  // The chosen value went in as its own cell after the parameters cell.
  await expect(result.locator('.jp-Cell').nth(1)).toContainText('n = 5');
});

test('Run on GPU is in the palette, the file browser and on Alt+Shift+G', async ({ page }) => {
  await page.notebook.createNew('shortcut.ipynb');
  await page.notebook.setCell(0, 'code', 'x = 1');
  // Unsaved changes are saved before the dialog opens.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Alt+Shift+G');
  const dialog = page.locator('.tml-RunNotebookDialog');
  await expect(dialog).toBeVisible();
  await expect(page.locator('.jp-NotebookPanel .jp-mod-dirty, .lm-TabBar-tab.jp-mod-current.jp-mod-dirty')).toHaveCount(
    0
  );
  await expect(dialog.locator('.tml-RunNotebook-noParams')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  await page.keyboard.press('Control+Shift+C');
  await page.locator('#modal-command-palette input').fill('Run Notebook on GPU');
  await expect(page.locator('#modal-command-palette li[data-command="tritonml:run-notebook-on-gpu"]')).toBeVisible();
  await page.keyboard.press('Escape');

  await page.sidebar.openTab('filebrowser');
  await page.locator('.jp-DirListing-item[data-file-type="notebook"]', { hasText: 'shortcut.ipynb' }).click({
    button: 'right'
  });
  const item = page.locator('.lm-Menu-item[data-command="tritonml:run-notebook-on-gpu"]');
  await expect(item).toBeVisible();
  await item.click();
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('.tml-RunNotebook-intro')).toContainText('shortcut.ipynb');
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
});
