import { expect, test } from '@jupyterlab/galata';

/**
 * The admin's defaults reach a job submitted from the New job dialog (issue 12). The test server sets
 * c.TritonML.default_partition = "interactive" and c.TritonML.default_time = "00:07:00"
 * (jupyter_server_test_config.py); the dialog leaves the partition at "default" and the time limit
 * empty, and Slurm itself (squeue/sacct through GET jobs/{id}) must report that partition and 7 minutes.
 */
test('a job from the New job dialog gets the admin’s default partition and time limit', async ({ page }) => {
  test.setTimeout(180000);
  await page.evaluate(() => {
    void window.jupyterapp.commands.execute('tritonml:new-job');
  });
  const dialog = page.locator('.tml-NewJobDialog');
  await expect(dialog.locator('select[name="partition"] option[value="interactive"]')).toHaveCount(1);
  await expect(dialog.locator('select[name="partition"]')).toHaveValue('');
  await expect(dialog.locator('input[name="time"]')).toHaveValue('');
  // The form says what "default" means here: the admin's partition and time limit, not Slurm's.
  await expect(dialog.locator('select[name="partition"] option[value=""]')).toHaveText('default (interactive)');
  await expect(dialog.locator('input[name="time"]')).toHaveAttribute('placeholder', '00:07:00');
  await dialog.locator('input[name="name"]').fill('galata-defaults');
  await dialog.locator('input[name="command"]').fill('sleep 30');
  // The preview is the server's rendering, with the same defaults.
  const script = dialog.locator('.tml-JobForm-script');
  await expect(script).toContainText('#SBATCH --partition=interactive');
  await expect(script).toContainText('#SBATCH --time=00:07:00');
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0);

  const row = page.locator('#tritonml-jobs .tml-JobRow', { hasText: 'galata-defaults' }).first();
  await expect(row).toBeVisible();
  const id = await row.getAttribute('data-job-id');
  expect(id).toMatch(/^\d+$/);
  try {
    // Slurm's own view of the job: its partition, and its time limit in minutes.
    await expect
      .poll(
        async () => {
          const job = await (await page.request.get(`/tritonml/jobs/${id}`)).json();
          return [job.partition, job.time_limit];
        },
        { timeout: 60000 }
      )
      .toEqual(['interactive', 7]);
    // The dialog sent neither: the stored spec has none, the defaults were the server's.
    const detail = await (await page.request.get(`/tritonml/jobs/${id}`)).json();
    expect([detail.spec.partition, detail.spec.time]).toEqual([null, null]);
    expect(detail.script).toContain('#SBATCH --time=00:07:00');
  } finally {
    await page.request.delete(`/tritonml/jobs/${id}`);
  }
});
