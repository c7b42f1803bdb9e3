import { expect, test } from '@jupyterlab/galata';

import { setTheme, shoot } from './helpers';

/**
 * Right-sized jobs against the real local Slurm cluster: a running job that uses 1 of its 2 cores
 * past the test settling time (20 s, ui-tests/jupyter_server_test_config.py) raises exactly one
 * notification; the finished job's advice says the same; its suggestion resubmits through the New job
 * dialog with the changed fields highlighted.
 */

const ONE_CORE = 'import time\nt = time.time()\nwhile time.time() - t < 45:\n    sum(range(10000))\n';

test('a job using 1 of 2 cores is told once while it runs, and its advice and suggestion agree', async ({
  page
}, testInfo) => {
  test.setTimeout(300000);
  // The jobs sidebar open: the events channel is connected, so the server's advice reaches this tab.
  await page.evaluate(() => window.jupyterapp.commands.execute('tritonml:show-jobs'));
  const response = await page.request.post('/tritonml/jobs', {
    data: {
      name: 'galata-advice',
      partition: 'batch-csl',
      cpus_per_task: 2,
      mem: '2G',
      time: '00:10:00',
      code: ONE_CORE
    }
  });
  expect(response.status()).toBe(201);
  const id = (await response.json()).id as string;

  // "about 1", or "about 0.4" where a loaded machine (CI runs the suites side by side) gave the busy
  // loop less than its core: the advice, ask for 1, is the same.
  const usedAbout = /Used about (1|0\.\d) of 2 requested CPU cores/;
  const toasts = page.locator('.Toastify__toast', { hasText: `Job ${id} “galata-advice”` }).filter({
    hasText: usedAbout
  });
  await expect(toasts).toHaveCount(1, { timeout: 120000 });
  await expect(toasts).toContainText('ask for --cpus-per-task=1');
  const panel = page.locator('#tritonml-jobs');
  await expect(panel.locator(`.tml-JobRow[data-job-id="${id}"]`)).toHaveAttribute('data-state', 'RUNNING');
  await page.screenshot({ path: testInfo.outputPath('advice-live-light.png') }); // with the notification
  await toasts.locator('.jp-toast-button', { hasText: 'Show job' }).click();
  const detail = panel.locator(`.tml-JobDetail[data-job-id="${id}"]`);
  await expect(detail).toBeVisible();

  await expect(
    panel.locator(`.tml-JobRow[data-job-id="${id}"], .tml-JobDetail[data-job-id="${id}"]`).first()
  ).toBeVisible();
  await expect
    .poll(async () => (await (await page.request.get(`/tritonml/jobs/${id}`)).json()).state, { timeout: 120000 })
    .toBe('COMPLETED');
  // Still exactly one: the click dismissed it, and no other came for this job.
  await expect(toasts).toHaveCount(0);

  // The finished job's advice says the same.
  const advice = detail.locator('.tml-MetricsAdvice');
  await expect(advice).toContainText(usedAbout, { timeout: 60000 });
  await expect(advice).toContainText('ask for --cpus-per-task=1.');

  // Its suggestion, each change with its reason.
  const sizing = detail.locator('.tml-RightSizing');
  await expect(sizing.locator('li[data-field="cpus_per_task"].tml-mod-suggested')).toContainText('1');
  await expect(sizing.locator('li[data-field="mem"].tml-mod-suggested')).toContainText('Peak memory');
  await expect(sizing.locator('li[data-field="time"].tml-mod-suggested')).toContainText('00:05:00');
  await page.addStyleTag({ content: '.Toastify { display: none !important; }' });
  await sizing.scrollIntoViewIfNeeded();
  await shoot(page, testInfo.outputPath('job-suggestion-light.png'));
  await setTheme(page, 'JupyterLab Dark');
  await shoot(page, testInfo.outputPath('job-suggestion-dark.png'));
  await setTheme(page, 'JupyterLab Light');

  // "Resubmit with these settings": the New job dialog, pre-filled, the changed fields highlighted.
  await sizing.getByRole('button', { name: 'Resubmit with these settings' }).click();
  const dialog = page.locator('.tml-NewJobDialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('input[name="cpus"]')).toHaveValue('1');
  await expect(dialog.locator('.tml-Field[data-field="cpus_per_task"]')).toHaveClass(/tml-mod-suggested/);
  await expect(dialog.locator('.tml-Field[data-field="mem"]')).toHaveClass(/tml-mod-suggested/);
  await expect(dialog.locator('.tml-Field[data-field="time"]')).toHaveClass(/tml-mod-suggested/);
  await expect(dialog.locator('.tml-Field[data-field="partition"]')).not.toHaveClass(/tml-mod-suggested/);
  await expect(dialog.locator('.tml-JobForm-script')).toContainText('--cpus-per-task=1');
  await shoot(page, testInfo.outputPath('resubmit-dialog-light.png'));
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0);
  const again = panel.locator('.tml-JobRow', { hasText: 'galata-advice' }).first();
  const newId = await again.getAttribute('data-job-id');
  expect(newId).not.toBe(id);
  await expect(panel.locator(`.tml-JobRow[data-job-id="${newId}"]`)).toHaveAttribute('data-state', 'COMPLETED', {
    timeout: 150000
  });
});

test('the advice commands are in the palette, and my efficiency report lists its figures', async ({ page }) => {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await palette.locator('input').fill('efficiency report');
  await expect(palette.locator('.lm-CommandPalette-item', { hasText: 'My Slurm Efficiency Report' })).toBeVisible();
  await palette.locator('input').fill('resubmit slurm');
  await expect(
    palette.locator('.lm-CommandPalette-item', { hasText: 'Resubmit Slurm Job With Suggested Settings' })
  ).toBeVisible();
  await page.keyboard.press('Escape');
  await page.evaluate(() => window.jupyterapp.commands.execute('tritonml:efficiency-report'));
  const report = page.locator('.tml-EfficiencyReport');
  await expect(report.locator('tr[data-figure="jobs"]')).toBeVisible({ timeout: 60000 });
  for (const figure of ['cpu', 'memory', 'time']) {
    await expect(report.locator(`tr[data-figure="${figure}"]`)).toBeVisible();
  }
});
