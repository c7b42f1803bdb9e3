import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

/**
 * Put `source` in cell `index`, adding the cell if running the previous one did not. The source goes
 * into the cell's model, not typed: the editor's auto-indent would indent the lines under a long
 * `%%tritonml sweep --grid a=1,2` line (it reads it as an unfinished Python expression).
 */
async function cell(page: IJupyterLabPageFixture, index: number, source: string): Promise<void> {
  while ((await page.notebook.getCellCount()) <= index) {
    await page.notebook.addCell('code', '');
  }
  await page.evaluate(
    ({ index, source }) => {
      const panel = window.jupyterapp.shell.currentWidget as any;
      panel.content.widgets[index].model.sharedModel.setSource(source);
    },
    { index, source }
  );
}

/**
 * A `%%tritonml sweep` cell, end to end in the browser: the kernel submits a 3-point grid to the real
 * local Slurm cluster as one array job, the cell's output is the sweep widget, whose table fills with
 * the reported losses (kept fresh by the jobs model's pushed job changes), sorted with the best point
 * first and highlighted; the array job's detail in the jobs sidebar leads to the same sweep in a tab.
 */
test('a %%tritonml sweep cell shows its results table with the best point highlighted', async ({ page }) => {
  test.setTimeout(300000);
  await page.notebook.createNew('sweep.ipynb');
  await page.notebook.setCell(0, 'code', '%load_ext tritonml_lab');
  await page.notebook.runCell(0);
  await cell(
    page,
    1,
    '%%tritonml sweep --grid lr=0.1,0.01,0.001 --metric loss --partition batch-csl --time 00:05:00 --name galata-sweep\n' +
      'loss = (lr - 0.01) ** 2\n' +
      'tritonml.report(loss=loss, lr_times_100=lr * 100)'
  );
  await page.notebook.runCell(1);

  const widget = page.locator('.tml-SweepWidget .tml-Sweep');
  await expect(widget).toHaveAttribute('data-loaded', 'true', { timeout: 60000 });
  const id = await widget.getAttribute('data-sweep-id');
  expect(id).toMatch(/^\d+$/);
  await expect(widget.locator('.tml-SweepTable-row')).toHaveCount(3);
  try {
    await expect(widget).toHaveAttribute('data-finished', 'true', { timeout: 180000 });
  } catch (error) {
    const answer = await page.request.get(`/tritonml/sweeps/${id}`);
    throw new Error(`sweep ${id} did not finish in the widget; the server says ${await answer.text()}`);
  }

  // Every point reported; sorted by loss, best first and highlighted: lr=0.01 (loss 0).
  await expect(widget.locator('.tml-SweepProgress-count--done')).toHaveText('3 completed');
  const rows = widget.locator('.tml-SweepTable-row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toHaveAttribute('data-best', 'true');
  await expect(rows.nth(0)).toHaveAttribute('data-index', '1');
  await expect(rows.nth(0)).toHaveClass(/tml-SweepTable-row--best/);
  await expect(rows.nth(0).locator('td.tml-SweepTable-metric.tml-mod-main')).toHaveText('0');
  await expect(widget.locator('.tml-SweepTable-row--best')).toHaveCount(1);
  const losses = await widget.locator('tbody td.tml-SweepTable-metric.tml-mod-main').allTextContents();
  expect(losses.map(Number)).toEqual([0, 0.000081, 0.0081]);
  await expect(widget.locator('.tml-Sweep-best')).toContainText('lr=0.01');
  await expect(widget.locator('.tml-Sweep-cancel')).toHaveCount(0); // nothing left to cancel
  await expect(widget.locator('.tml-SweepFailed')).toHaveCount(0);

  // The sweep's array job in the jobs sidebar names its sweep, and opens it in a tab.
  await page.evaluate(async jobId => {
    await window.jupyterapp.commands.execute('tritonml:show-job', { id: jobId });
  }, id);
  const section = page.locator(`.tml-JobSweep[data-sweep-id="${id}"]`);
  await expect(section).toContainText(`Sweep ${id}`, { timeout: 60000 });
  await section.locator('.tml-JobSweep-open').click();
  const tab = page.locator(`.tml-SweepPanel .tml-Sweep[data-sweep-id="${id}"]`);
  await expect(tab).toHaveAttribute('data-finished', 'true', { timeout: 60000 });
  await expect(tab.locator('.tml-SweepTable-row').first()).toHaveAttribute('data-index', '1');
  await expect(tab.locator('.tml-SweepTable-row--best')).toHaveCount(1);
});

/**
 * A point that raises shows up as failed with its error; "Retry failed" runs it again as a new array
 * job of the same sweep (the retry finds the marker the first attempt left, and succeeds).
 */
test('a failed point shows its error and Retry failed runs it again', async ({ page }, testInfo) => {
  test.setTimeout(300000);
  const marker = `/tmp/tritonml-galata-retry-${Date.now()}`;
  await page.notebook.createNew('sweep-retry.ipynb');
  await page.notebook.setCell(0, 'code', '%load_ext tritonml_lab');
  await page.notebook.runCell(0);
  await cell(
    page,
    1,
    '%%tritonml sweep --grid lr=0.1,0.01 --metric loss --partition batch-csl --time 00:05:00 --name galata-retry\n' +
      'import os\n' +
      `if lr == 0.1 and not os.path.exists("${marker}"):\n` +
      `    open("${marker}", "w").close()\n` +
      '    raise ValueError("diverged at lr=0.1")\n' +
      'tritonml.report(loss=lr)'
  );
  await page.notebook.runCell(1);

  const widget = page.locator('.tml-SweepWidget .tml-Sweep');
  await expect(widget).toHaveAttribute('data-finished', 'true', { timeout: 180000 });
  const failed = widget.locator('.tml-SweepFailed-task[data-index="0"]');
  await expect(failed).toHaveAttribute('data-state', 'FAILED');
  await expect(failed.locator('.tml-SweepFailed-summary')).toContainText('diverged at lr=0.1');
  await expect(widget.locator('.tml-SweepProgress-count--done')).toHaveText('1 completed');
  await page.screenshot({ path: testInfo.outputPath('sweep-failed-light.png') });

  await widget.locator('.tml-Sweep-retry').click();
  await expect(widget.locator('.tml-SweepProgress-count--done')).toHaveText('2 completed', { timeout: 180000 });
  await expect(widget.locator('.tml-SweepFailed')).toHaveCount(0);
  await expect(widget.locator('.tml-SweepTable-row').first()).toHaveAttribute('data-index', '1');
  await expect(widget.locator('.tml-SweepTable-row[data-index="0"] td.tml-SweepTable-metric.tml-mod-main')).toHaveText(
    '0.1'
  );
  await page.screenshot({ path: testInfo.outputPath('sweep-retried-light.png') });
});
