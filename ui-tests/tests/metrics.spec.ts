import { expect, test } from '@jupyterlab/galata';

import { setTheme, shoot } from './helpers';

/**
 * Live charts of a running job, against the real local Slurm cluster (dev/cluster up). There are no
 * GPUs here, so the in-job sampler records with src "none": the CPU and RAM charts must still show
 * and grow as the job writes a sample each second. (GPU rendering is checked in jest with a real
 * H200 trace: src/__tests__/metrics.spec.ts.)
 */

test('a running job shows live CPU and RAM charts that update, then its summary', async ({ page }, testInfo) => {
  test.setTimeout(240000);
  // ~20 s of one busy core, so the CPU line has something to show.
  const response = await page.request.post('/tritonml/jobs', {
    data: {
      name: 'galata-metrics',
      // The GPU partition (its fake GPUs give the sampler nothing: src "none"), as batch-csl may be
      // busy with other tests' arrays.
      partition: 'gpu-h100-80g',
      gpus: 'h100:1',
      time: '00:05:00',
      command: 'end=$((SECONDS+20)); while [ $SECONDS -lt $end ]; do :; done; echo metrics-done'
    }
  });
  expect(response.status()).toBe(201);
  const id = (await response.json()).id as string;

  await page.evaluate(jobId => {
    void window.jupyterapp.commands.execute('tritonml:show-job', { id: jobId });
  }, id);
  const detail = page.locator(`.tml-JobDetail[data-job-id="${id}"]`);
  await expect(detail).toBeVisible();

  const section = detail.locator('.tml-JobMetrics');
  const cpu = section.locator('.tml-MetricsChart[data-metric="cpu"] path.tml-MetricsChart-line');
  await expect(cpu).toHaveCount(1, { timeout: 120000 });
  await expect(section.locator('.tml-MetricsChart[data-metric="ram"] path.tml-MetricsChart-line')).toHaveCount(1);
  // No GPUs here: no GPU charts.
  await expect(section.locator('.tml-MetricsChart[data-metric="util"]')).toHaveCount(0);
  await expect(section.locator('.tml-MetricsChart-unit').first()).toHaveText('cores');

  // New points arrive over the push channel about once a second.
  const points = async () => Number((await cpu.getAttribute('data-points')) ?? '0');
  await expect.poll(points, { timeout: 30000 }).toBeGreaterThanOrEqual(2);
  const before = await points();
  const pathBefore = (await cpu.getAttribute('d')) ?? '';
  await expect.poll(points, { timeout: 15000 }).toBeGreaterThanOrEqual(before + 3);
  expect(((await cpu.getAttribute('d')) ?? '').length).toBeGreaterThan(pathBefore.length);
  await expect(section.locator('.tml-LogTabs-live')).toBeVisible();

  // The tooltip shows the values at the time under the pointer.
  const body = section.locator('.tml-MetricsChart[data-metric="cpu"] .tml-MetricsChart-body');
  const box = (await body.boundingBox())!;
  await page.mouse.move(box.x + 60, box.y + box.height / 2);
  const tooltip = body.locator('.tml-MetricsChart-tooltip');
  await expect(tooltip).toBeVisible();
  await expect(tooltip).toContainText('cores');
  await shoot(page, testInfo.outputPath('metrics-running-light.png'));
  await section.screenshot({ path: testInfo.outputPath('metrics-section-light.png') });
  await setTheme(page, 'JupyterLab Dark');
  await page.mouse.move(box.x + 60, box.y + box.height / 2 + 1);
  await section.screenshot({ path: testInfo.outputPath('metrics-section-dark.png') });
  await page.mouse.move(0, 0);

  // After the end: the charts stay, and the summary appears.
  await expect(detail).toHaveAttribute('data-job-id', id);
  await expect(
    page.locator(`.tml-JobRow[data-job-id="${id}"], .tml-JobDetail[data-job-id="${id}"] .tml-StateBadge`).first()
  ).toHaveText('completed', { timeout: 120000 });
  await expect(section.locator('.tml-MetricsSummary')).toBeVisible({ timeout: 30000 });
  await expect(cpu).toHaveCount(1);
  await shoot(page, testInfo.outputPath('metrics-done-dark.png'));
  await setTheme(page, 'JupyterLab Light');
  await section.screenshot({ path: testInfo.outputPath('metrics-done-light.png') });
});

test('the notebook widget shows compact live charts, then the summary', async ({ page }, testInfo) => {
  test.setTimeout(240000);
  const response = await page.request.post('/tritonml/jobs', {
    data: {
      name: 'galata-metrics-widget',
      // The GPU partition (its fake GPUs give the sampler nothing: src "none"), as batch-csl may be
      // busy with other tests' arrays.
      partition: 'gpu-h100-80g',
      gpus: 'h100:1',
      time: '00:05:00',
      command: 'end=$((SECONDS+40)); while [ $SECONDS -lt $end ]; do :; done; echo widget-done'
    }
  });
  expect(response.status()).toBe(201);
  const id = (await response.json()).id as string;
  await page.notebook.createNew('metrics-widget.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    `from tritonml_lab.widgets import JobWidget\nJobWidget(job_id="${id}", job_name="galata-metrics-widget")`
  );
  await page.notebook.runCell(0);
  const widget = page.locator(`.tml-JobWidget[data-job-id="${id}"]`);
  await expect(widget).toBeVisible({ timeout: 60000 });
  const strip = widget.locator('.tml-JobWidget-metrics');
  const cpu = strip.locator('.tml-MetricsChart[data-metric="cpu"] path.tml-MetricsChart-line');
  await expect(cpu).toHaveCount(1, { timeout: 120000 });
  await expect(strip.locator('.tml-MetricsChart')).toHaveCount(2);
  const points = async () => Number((await cpu.getAttribute('data-points')) ?? '0');
  await expect.poll(points, { timeout: 30000 }).toBeGreaterThanOrEqual(2);
  const before = await points();
  await expect.poll(points, { timeout: 15000 }).toBeGreaterThan(before);
  await page.addStyleTag({ content: '.Toastify { display: none !important; }' });
  await widget.screenshot({ path: testInfo.outputPath('widget-metrics-running-light.png') });

  await expect(widget).toHaveAttribute('data-state', 'COMPLETED', { timeout: 120000 });
  await expect(strip.locator('.tml-MetricsSummary-row[data-figure="time"]')).toBeVisible({ timeout: 30000 });
  await widget.screenshot({ path: testInfo.outputPath('widget-metrics-done-light.png') });
  await setTheme(page, 'JupyterLab Dark');
  await widget.screenshot({ path: testInfo.outputPath('widget-metrics-done-dark.png') });
});
