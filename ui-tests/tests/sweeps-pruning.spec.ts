import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

/** Put `source` in cell `index` through the cell's model (typing would auto-indent the magic's lines). */
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
 * An Optuna sweep with `--prune median`, end to end on the real local cluster: five trials, two at a
 * time; each reports its loss per step. The last two stay at a loss of 10 while the others fall to
 * about 0.2: both are pruned at their first step (Optuna's MedianPruner, after 2 completed trials).
 * The widget draws a curve per task on one scale and marks the pruned rows.
 */
test('an Optuna sweep with --prune median shows per-step curves and the pruned trials', async ({ page }, testInfo) => {
  test.setTimeout(300000);
  await page.notebook.createNew('sweep-prune.ipynb');
  await page.notebook.setCell(0, 'code', '%load_ext tritonml_lab');
  await page.notebook.runCell(0);
  await cell(
    page,
    1,
    "%%tritonml sweep --optuna 5 --space 'x=choice(0,1)' --metric loss --mode min --prune median " +
      '--prune-startup 2 --parallel 2 --partition batch-csl --time 00:05:00 --name galata-prune\n' +
      'import time\n' +
      'for step in range(5):\n' +
      '    loss = 10.0 if tritonml.index() >= 3 else 1.0 / (step + 1) - 0.001 * tritonml.index()\n' +
      '    tritonml.report(step=step, loss=loss)\n' +
      '    time.sleep(0.2)'
  );
  await page.notebook.runCell(1);

  const widget = page.locator('.tml-SweepWidget .tml-Sweep');
  await expect(widget).toHaveAttribute('data-loaded', 'true', { timeout: 60000 });
  const id = await widget.getAttribute('data-sweep-id');
  try {
    await expect(widget).toHaveAttribute('data-finished', 'true', { timeout: 200000 });
  } catch (error) {
    const answer = await page.request.get(`/tritonml/sweeps/${id}`);
    throw new Error(`sweep ${id} did not finish in the widget; the server says ${await answer.text()}`);
  }
  await expect(widget.locator('.tml-Sweep-meta')).toContainText('pruning: median (after 2 completed trials');
  await expect(widget.locator('.tml-SweepProgress-count--done')).toHaveText('5 completed');
  await expect(widget.locator('[data-family="pruned"]')).toHaveText('(2 pruned)');
  await expect(widget.locator('th.tml-SweepTable-curve')).toHaveText('loss per step');
  await expect(widget.locator('.tml-Sparkline')).toHaveCount(5);

  // The pruned ones: last in the table, dashed curves that stop at step 0, a "pruned at step 0" mark.
  const pruned = widget.locator('.tml-SweepTable-row[data-pruned="true"]');
  await expect(pruned).toHaveCount(2);
  await expect(pruned.locator('.tml-SweepTable-pruned')).toHaveText(['pruned at step 0', 'pruned at step 0']);
  await expect(pruned.locator('.tml-Sparkline--pruned')).toHaveCount(2);
  expect(await pruned.evaluateAll(rows => rows.map(row => row.getAttribute('data-index')).sort())).toEqual(['3', '4']);
  // The best is the last good trial, with its whole curve (5 steps).
  const best = widget.locator('.tml-SweepTable-row--best');
  await expect(best).toHaveAttribute('data-index', '2');
  await expect(best.locator('.tml-Sparkline--best')).toHaveAttribute('data-points', '5');
  await expect(best.locator('.tml-Sparkline')).toHaveAttribute(
    'aria-label',
    'loss 1 → 0.2 over steps 0–4 (5 reported)'
  );
  // Both themes (checked by eye from the attachments: theme colours only), without the job toasts over them.
  await page.addStyleTag({ content: '.Toastify { display: none !important; }' });
  await widget.locator('.tml-SweepTable-wrap').screenshot({ path: testInfo.outputPath('sweep-pruning-light.png') });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('apputils:change-theme', { theme: 'JupyterLab Dark' });
  });
  await expect(page.locator('body[data-jp-theme-light="false"]')).toHaveCount(1, { timeout: 30000 });
  await page.waitForTimeout(1000); // the theme's transition
  await widget.locator('.tml-SweepTable-wrap').screenshot({ path: testInfo.outputPath('sweep-pruning-dark.png') });
});
