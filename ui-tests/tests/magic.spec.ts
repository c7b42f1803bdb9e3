import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

/** Put `source` in cell `index`, adding the cell if running the previous one did not. */
async function cell(page: IJupyterLabPageFixture, index: number, source: string): Promise<void> {
  while ((await page.notebook.getCellCount()) <= index) {
    await page.notebook.addCell('code', '');
  }
  await page.notebook.setCell(index, 'code', source);
}

/**
 * A `%%tritonml submit` cell, end to end in the browser: the kernel submits to the real local Slurm
 * cluster, the cell's output is the job widget, which follows the job from the same model as the
 * Jobs panel, and "Fetch results" brings the job's --out variable back into the notebook.
 */
test('a %%tritonml submit cell runs as a job and brings its result back', async ({ page }) => {
  test.setTimeout(240000);
  await page.notebook.createNew('magic.ipynb');
  await page.notebook.setCell(0, 'code', '%load_ext tritonml_lab\nbase = 20');
  await page.notebook.runCell(0);
  await cell(
    page,
    1,
    '%%tritonml submit --partition batch-csl --time 00:05:00 --name galata-magic --in base --out answer\n' +
      'answer = base + 22\nprint("computed in the job:", answer)'
  );
  await page.notebook.runCell(1);

  const widget = page.locator('.tml-JobWidget');
  await expect(widget).toBeVisible({ timeout: 60000 });
  const id = await widget.getAttribute('data-job-id');
  expect(id).toMatch(/^\d+$/);
  await expect(widget).toHaveAttribute('data-state', /^(COMPLETED|FAILED|CANCELLED|TIMEOUT)$/, {
    timeout: 120000
  });
  if ((await widget.getAttribute('data-state')) !== 'COMPLETED') {
    const log = await page.request.get(`/tritonml/jobs/${id}/log?stream=stderr`);
    throw new Error(`job ${id} failed: ${(await log.json()).data}`);
  }
  await expect(widget.locator('.tml-JobWidget-log')).toContainText('computed in the job: 42');

  // The same job in the Jobs panel.
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('tritonml:show-jobs');
  });
  await expect(page.locator(`.tml-JobRow[data-job-id="${id}"]`)).toHaveAttribute('data-state', 'COMPLETED');

  // Fetch the --out variable into the kernel through the widget, then use it in the notebook.
  await widget.locator('.tml-JobWidget-fetch').click();
  await expect(widget.locator('.tml-JobWidget-message')).toContainText('answer', { timeout: 30000 });
  await cell(page, 2, 'print("answer is", answer)');
  await page.notebook.runCell(2);
  await expect(page.locator('.jp-OutputArea-output', { hasText: 'answer is' })).toContainText('answer is 42');
});
