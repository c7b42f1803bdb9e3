import { expect, test } from '@jupyterlab/galata';

/**
 * The cluster sidebar against the real local Slurm cluster (dev/cluster up): partition names and
 * GPU types come from slurmctld through our server extension, nothing is mocked.
 */
test('the cluster sidebar lists the real partitions and GPUs', async ({ page }, testInfo) => {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('tritonml:show-cluster');
  });
  const panel = page.locator('#tritonml-cluster');
  await expect(panel).toBeVisible();

  const rows = panel.locator('.tml-PartitionRow');
  await expect(rows.first()).toBeVisible();
  for (const name of ['gpu-h100-80g', 'gpu-a100-80g', 'gpu-debug', 'batch-csl', 'interactive']) {
    await expect(panel.locator(`.tml-PartitionRow[data-partition="${name}"]`)).toBeVisible();
  }
  await expect(panel.locator('.tml-PartitionRow[data-partition="batch-csl"] .tml-Badge')).toHaveText('default');
  await expect(panel.locator('.tml-PartitionRow[data-partition="gpu-h100-80g"]')).toContainText('h100');
  await expect(panel.locator('.tml-ClusterPanel-gpus')).toContainText('GPUs free now');
  // Kept for people reviewing the look (light theme, then dark).
  await page.screenshot({ path: testInfo.outputPath('cluster-light.png') });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('apputils:change-theme', {
      theme: 'JupyterLab Dark'
    });
  });
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-name', 'JupyterLab Dark');
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
  await page.screenshot({ path: testInfo.outputPath('cluster-dark.png') });
});

test('the cluster command is in the palette', async ({ page }) => {
  await page.keyboard.press('Control+Shift+C');
  await page.locator('#modal-command-palette input').fill('Slurm Cluster');
  await expect(page.locator('#modal-command-palette li[data-command="tritonml:show-cluster"]')).toBeVisible();
});
