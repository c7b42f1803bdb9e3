import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { setTheme, shoot } from './helpers';

/**
 * The jobs sidebar and the New job dialog against the real local Slurm cluster (dev/cluster up):
 * the job is really submitted with sbatch, runs on csl1, and its log is read from its job directory.
 */

async function openDialog(page: Page): Promise<void> {
  await page.evaluate(() => {
    void window.jupyterapp.commands.execute('tritonml:new-job');
  });
  await expect(page.locator('.tml-NewJobDialog')).toBeVisible();
  // The partitions come from the cluster.
  await expect(page.locator('.tml-NewJobDialog select[name="partition"] option[value="batch-csl"]')).toHaveCount(1);
}

test('submit from the New job dialog, watch it finish, read its log', async ({ page }, testInfo) => {
  test.setTimeout(240000);
  await openDialog(page);
  const dialog = page.locator('.tml-NewJobDialog');
  await dialog.locator('input[name="name"]').fill('galata-hello');
  await dialog.locator('select[name="partition"]').selectOption('batch-csl');
  await expect(dialog.locator('.tml-Field[data-field="partition"] .tml-Field-hint')).toContainText('CPU only');
  await dialog.locator('input[name="command"]').fill('echo hello-galata; sleep 3');
  const script = dialog.locator('.tml-JobForm-script');
  await expect(script).toContainText('#SBATCH --partition=batch-csl');
  await expect(script).toContainText('hello-galata');
  await shoot(page, testInfo.outputPath('new-job-light.png'));

  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0);

  const panel = page.locator('#tritonml-jobs');
  await expect(panel).toBeVisible();
  const row = panel.locator('.tml-JobRow', { hasText: 'galata-hello' }).first();
  await expect(row).toBeVisible();
  const id = await row.getAttribute('data-job-id');
  expect(id).toMatch(/^\d+$/);
  await expect(panel.locator(`.tml-JobRow[data-job-id="${id}"]`)).toHaveAttribute('data-state', 'COMPLETED', {
    timeout: 120000
  });
  await expect(panel.locator(`.tml-JobRow[data-job-id="${id}"] .tml-StateBadge`)).toHaveText('completed');
  await shoot(page, testInfo.outputPath('jobs-light.png'));

  await panel.locator(`.tml-JobRow[data-job-id="${id}"]`).click();
  const detail = panel.locator(`.tml-JobDetail[data-job-id="${id}"]`);
  await expect(detail).toBeVisible();
  await expect(detail.locator('.tml-Log')).toContainText('hello-galata');
  await expect(detail.locator('.tml-JobScript')).toContainText('#SBATCH --partition=batch-csl');
  await expect(detail.locator('.tml-JobFacts')).toContainText('csl1');
  // The efficiency figures arrive once sacct has them.
  await expect(detail.locator('.tml-Efficiency')).toBeVisible({ timeout: 30000 });
  await shoot(page, testInfo.outputPath('job-detail-light.png'));

  await setTheme(page, 'JupyterLab Dark');
  await shoot(page, testInfo.outputPath('job-detail-dark.png'));
  await detail.locator('.tml-JobDetail-back').click();
  await expect(panel.locator('.tml-JobsList')).toBeVisible();
  await shoot(page, testInfo.outputPath('jobs-dark.png'));
  await openDialog(page);
  await page.locator('.tml-NewJobDialog select[name="partition"]').selectOption('gpu-h100-80g');
  await page.locator('.tml-NewJobDialog input[name="gpuCount"]').fill('1');
  await page.locator('.tml-NewJobDialog select[name="gpuType"]').selectOption('h100');
  await page.locator('.tml-NewJobDialog input[name="command"]').fill('nvidia-smi');
  await expect(page.locator('.tml-NewJobDialog .tml-JobForm-script')).toContainText('h100:1');
  await shoot(page, testInfo.outputPath('new-job-dark.png'));
  await setTheme(page, 'JupyterLab Light');
});

test('the dialog shows the server’s field errors and Slurm’s rejection', async ({ page }) => {
  await openDialog(page);
  const dialog = page.locator('.tml-NewJobDialog');
  await dialog.locator('input[name="command"]').fill('echo never-runs');
  // The preview validates as one types: a bad time limit is marked next to its field.
  await dialog.locator('input[name="time"]').fill('banana');
  await expect(dialog.locator('.tml-Field[data-field="time"] .tml-Field-error')).toContainText('time limit');
  await dialog.locator('input[name="time"]').fill('00:05:00');
  await expect(dialog.locator('.tml-Field[data-field="time"] .tml-Field-error')).toHaveCount(0);
  await expect(dialog.locator('.tml-JobForm-script')).toContainText('--time=00:05:00');

  // The DDP choice: one task per GPU with srun, shown in the script before anything is sent.
  const ddp = dialog.locator('input[name="ddp"]');
  await ddp.check();
  await expect(dialog.locator('.tml-JobForm-script')).toContainText('srun --kill-on-bad-exit=1');
  await expect(dialog.locator('.tml-JobForm-script')).toContainText('export MASTER_PORT=');
  await ddp.uncheck();
  await expect(dialog.locator('.tml-JobForm-script')).not.toContainText('srun --kill-on-bad-exit=1');

  // More GPUs than the partition has: valid for us, refused by Slurm (422), shown as a banner.
  await dialog.locator('select[name="partition"]').selectOption('gpu-h100-80g');
  await dialog.locator('input[name="gpuCount"]').fill('1');
  await dialog.locator('input[name="mem"]').fill('4000G');
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  const banner = dialog.locator('.tml-JobForm-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toHaveAttribute('data-kind', 'slurm');
  await expect(banner).toContainText('Slurm rejected the job');
  // Still open, nothing lost.
  await expect(dialog.locator('input[name="command"]')).toHaveValue('echo never-runs');
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  await expect(dialog).toHaveCount(0);
});

test('the jobs commands are in the palette', async ({ page }) => {
  await page.keyboard.press('Control+Shift+C');
  await page.locator('#modal-command-palette input').fill('Slurm Job');
  await expect(page.locator('#modal-command-palette li[data-command="tritonml:show-jobs"]')).toBeVisible();
  await expect(page.locator('#modal-command-palette li[data-command="tritonml:new-job"]')).toBeVisible();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Alt+Shift+J'); // Ctrl+Shift+J is Chrome's console
  await expect(page.locator('.tml-NewJobDialog')).toBeVisible();
  // The cursor is in the first field, so one can type (and Escape closes it) at once.
  await expect(page.locator('.tml-NewJobDialog input[name="name"]')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.locator('.tml-NewJobDialog')).toHaveCount(0);
});

test('the notebook widget shows the job live from the same model, and fetches through the kernel', async ({
  page
}, testInfo) => {
  test.setTimeout(240000);
  // A job submitted through the API, then shown by the kernel's JobWidget (tritonml_lab.widgets).
  const response = await page.request.post('/tritonml/jobs', {
    data: {
      name: 'galata-widget',
      partition: 'batch-csl',
      command: 'for i in 1 2 3; do echo widget-line-$i; sleep 1; done'
    }
  });
  expect(response.status()).toBe(201);
  const id = (await response.json()).id as string;

  await page.notebook.createNew('widget.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    `from tritonml_lab.widgets import JobWidget\nw = JobWidget(job_id="${id}", job_name="galata-widget", out_vars=["x"])\nw`
  );
  await page.notebook.runCell(0);
  const widget = page.locator('.tml-JobWidget');
  await expect(widget).toBeVisible({ timeout: 60000 });
  await expect(widget).toHaveAttribute('data-job-id', id);
  await expect(widget).toHaveAttribute('data-state', 'COMPLETED', { timeout: 120000 });
  await expect(widget.locator('.tml-JobWidget-log')).toContainText('widget-line-3');
  await expect(widget.locator('.tml-JobWidget-cancel')).toBeHidden();
  const fetch = widget.locator('.tml-JobWidget-fetch');
  await expect(fetch).toBeVisible();
  await shoot(page, testInfo.outputPath('widget-light.png'));
  // The button sends {action: 'fetch'} to the kernel, which answers through `message`.
  await fetch.click();
  await expect(widget.locator('.tml-JobWidget-message')).not.toHaveText(/^(|Fetching…)$/);
  // The view wrote the final state back into the model, so a saved notebook shows it.
  await page.notebook.addCell('code', '');
  await page.notebook.setCell(1, 'code', 'print("state=" + w.state)');
  await page.notebook.runCell(1);
  await expect(page.locator('.jp-OutputArea-output', { hasText: 'state=' })).toContainText('state=COMPLETED');
  await setTheme(page, 'JupyterLab Dark');
  await shoot(page, testInfo.outputPath('widget-dark.png'));
  await setTheme(page, 'JupyterLab Light');
});
