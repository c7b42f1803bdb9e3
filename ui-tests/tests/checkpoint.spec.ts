import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { setTheme, shoot } from './helpers';

/**
 * Long jobs against the real local Slurm cluster: the New job dialog's "Warn before the limit" and
 * "Requeue up to" fields, the time left with its warning badge in the last 10 % of the limit, the
 * notification for a job without the option, and the restart history of a job that requeued itself.
 */

async function submit(page: Page, name: string, fill: (dialog: ReturnType<Page['locator']>) => Promise<void>) {
  await page.evaluate(() => {
    void window.jupyterapp.commands.execute('tritonml:new-job');
  });
  const dialog = page.locator('.tml-NewJobDialog');
  await expect(dialog.locator('select[name="partition"] option[value="batch-csl"]')).toHaveCount(1);
  await dialog.locator('input[name="name"]').fill(name);
  await dialog.locator('select[name="partition"]').selectOption('batch-csl');
  await dialog.locator('input[name="time"]').fill('00:01:00');
  await fill(dialog);
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0);
  const row = page.locator('#tritonml-jobs .tml-JobRow', { hasText: name }).first();
  await expect(row).toBeVisible();
  return (await row.getAttribute('data-job-id')) as string;
}

// Run 0 stops at Slurm's warning (exit 99: come back); run 1 finishes.
const REQUEUING_SCRIPT = `trap 'echo "saved at the warning"; exit 99' USR1
echo "run $TRITONML_RESTARTS"
if [ "$TRITONML_RESTARTS" = 0 ]; then sleep 100 & wait; fi
echo finished`;

test('time left, its warning badge, the notification and the restart history', async ({ page }, testInfo) => {
  test.setTimeout(420000);
  const requeuing = await submit(page, 'galata-requeue', async dialog => {
    await dialog.locator('label.tml-RunKind', { hasText: 'Shell script' }).click();
    await dialog.locator('textarea[name="script"]').fill(REQUEUING_SCRIPT);
    await dialog.locator('input[name="checkpoint.warn"]').fill('30s');
    await dialog.locator('input[name="checkpoint.requeue"]').fill('1');
    const script = dialog.locator('.tml-JobForm-script');
    await expect(script).toContainText('#SBATCH --signal=B:USR1@30');
    await expect(script).toContainText('#SBATCH --requeue');
    await expect(script).toContainText('#SBATCH --open-mode=append');
    await shoot(page, testInfo.outputPath('new-job-checkpoint.png'));
  });
  const plain = await submit(page, 'galata-no-warning', async dialog => {
    await dialog.locator('input[name="command"]').fill('sleep 300');
  });

  // The job without the option: time left, then the warning badge in the last 6 s of its minute,
  // and once a notification before its limit.
  const panel = page.locator('#tritonml-jobs');
  await panel.locator(`.tml-JobRow[data-job-id="${plain}"]`).click();
  const detail = panel.locator(`.tml-JobDetail[data-job-id="${plain}"]`);
  const badge = detail.locator('.tml-Checkpoint .tml-TimeLeft');
  await expect(badge).toHaveAttribute('data-warn', 'false', { timeout: 60000 });
  await expect(detail.locator('.tml-Checkpoint-options')).toContainText('--warn and --requeue');
  // (Attached, not visible: the screenshots hide the toasts.)
  await expect(
    page.locator('.Toastify__toast').filter({ hasText: `Job ${plain} (galata-no-warning) reaches its time limit` })
  ).toHaveCount(1, { timeout: 60000 });
  await expect(badge).toHaveAttribute('data-warn', 'true', { timeout: 60000 });
  await shoot(page, testInfo.outputPath('time-left-badge-light.png'));
  await setTheme(page, 'JupyterLab Dark');
  await shoot(page, testInfo.outputPath('time-left-badge-dark.png'));
  await setTheme(page, 'JupyterLab Light');
  await detail.locator('.tml-JobDetail-back').click();

  // The job that requeued itself once: two runs, the first stopped for the time limit.
  await panel.locator(`.tml-JobRow[data-job-id="${requeuing}"]`).click();
  const requeued = panel.locator(`.tml-JobDetail[data-job-id="${requeuing}"]`);
  await expect(requeued.locator('.tml-Checkpoint-options')).toContainText('requeues itself up to 1 time');
  const runs = requeued.locator('.tml-Checkpoint-runs tbody tr');
  await expect(runs).toHaveCount(2, { timeout: 300000 });
  await expect(runs.nth(0)).toContainText('stopped for the time limit, requeued');
  await expect(runs.nth(0)).toContainText('csl1');
  await expect(requeued.locator('.tml-StateBadge').first()).toHaveText('completed', { timeout: 120000 });
  await expect(runs.nth(1)).toContainText('exit 0');
  await expect(requeued.locator('.tml-Log')).toContainText('finished');
  await shoot(page, testInfo.outputPath('restart-history-light.png'));
});
