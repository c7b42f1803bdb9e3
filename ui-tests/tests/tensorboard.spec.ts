import { expect, test } from '@jupyterlab/galata';

/**
 * Open TensorBoard on a 4-point sweep whose tasks only call tritonml.report(step=..., loss=...), end to
 * end on the real local cluster: the tab shows TensorBoard (served through the Jupyter server) with one
 * run per task, named by its point, and the loss curves.
 */
test('Open TensorBoard on a sweep shows one run per task with its curve', async ({ page }, testInfo) => {
  test.setTimeout(300000);
  await page.notebook.createNew('tensorboard.ipynb');
  await page.notebook.setCell(0, 'code', '%load_ext tritonml_lab');
  await page.notebook.runCell(0);
  await page.notebook.addCell('code', '');
  await page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget as any;
    panel.content.widgets[1].model.sharedModel.setSource(
      '%%tritonml sweep --grid lr=0.1,0.2,0.3,0.4 --metric loss --partition batch-csl --time 00:05:00 ' +
        '--name galata-tb\n' +
        'for step in range(20):\n' +
        '    tritonml.report(step=step, loss=lr * 10 / (step + 1))'
    );
  });
  await page.notebook.runCell(1);
  const widget = page.locator('.tml-SweepWidget .tml-Sweep');
  await expect(widget).toHaveAttribute('data-loaded', 'true', { timeout: 60000 });
  const id = await widget.getAttribute('data-sweep-id');
  await expect(widget).toHaveAttribute('data-finished', 'true', { timeout: 200000 });

  await page.evaluate(async sweep => {
    await window.jupyterapp.commands.execute('tritonml:open-tensorboard', { sweep });
  }, id);
  const tab = page.locator('.tml-TensorBoard');
  await expect(tab).toHaveCount(1, { timeout: 60000 });
  await expect(page.locator('.lm-TabBar-tab[data-id^="tritonml-tensorboard-"]')).toContainText(
    `TensorBoard · sweep ${id}`
  );
  const frame = page.frameLocator('.tml-TensorBoard iframe');
  for (const lr of ['0.1', '0.2', '0.3', '0.4']) {
    await expect(frame.getByText(`lr=${lr}`).first()).toBeVisible({ timeout: 60000 });
  }
  await expect(frame.getByText('loss').first()).toBeVisible();
  // The loss card's chart (its toolbar), with data up to the last step reported.
  await expect(frame.getByRole('button', { name: 'Fit line chart domains to data' }).first()).toBeVisible({
    timeout: 30000
  });
  await expect(frame.getByText('step 19').first()).toBeVisible({ timeout: 30000 });
  await page.addStyleTag({ content: '.Toastify { display: none !important; }' });
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('application:toggle-left-area');
  });
  await page.waitForTimeout(2000); // the charts' redraw at the new size
  await tab.screenshot({ path: testInfo.outputPath('tensorboard-light.png') });
  // The server stops it now (the test leaves nothing running).
  const list = await (await page.request.get('/tritonml/tensorboards')).json();
  for (const board of list.tensorboards) {
    await page.request.delete(`/tritonml/tensorboards/${board.id}`);
  }
});
