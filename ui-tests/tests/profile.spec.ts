import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import { setTheme, shoot } from './helpers';

/**
 * --profile against the real local Slurm cluster: the New job dialog's Profile choice, and the job
 * detail's Profile section of a CPU PyTorch training that waits for its data (a slow Dataset): the
 * steps, the data-wait share, the top operators, the advice and the trace to download.
 */

// The training of tritonml_lab/tests/test_profile_live.py: a slow Dataset, a tiny model.
const TRAIN = fs.readFileSync(
  path.join(__dirname, '..', '..', 'tritonml_lab', 'tests', 'data', 'profile-slow-train.py'),
  'utf-8'
);

test('the Profile section of a profiled CPU PyTorch job', async ({ page }, testInfo) => {
  test.setTimeout(300000);
  await page.evaluate(() => {
    void window.jupyterapp.commands.execute('tritonml:new-job');
  });
  const dialog = page.locator('.tml-NewJobDialog');
  await expect(dialog.locator('select[name="partition"] option[value="batch-csl"]')).toHaveCount(1);
  await dialog.locator('input[name="name"]').fill('galata-profile');
  await dialog.locator('select[name="partition"]').selectOption('batch-csl');
  await dialog.locator('input[name="time"]').fill('00:05:00');
  await dialog.locator('label.tml-RunKind', { hasText: 'Python code' }).click();
  await dialog.locator('textarea[name="code"]').fill(TRAIN);
  await dialog.locator('select[name="profile"]').selectOption('torch');
  const script = dialog.locator('.tml-JobForm-script');
  await expect(script).toContainText('export TRITONML_PROFILE=torch');
  await expect(script).toContainText('profile-hook');
  await shoot(page, testInfo.outputPath('new-job-profile.png'));
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0);

  const panel = page.locator('#tritonml-jobs');
  const row = panel.locator('.tml-JobRow', { hasText: 'galata-profile' }).first();
  await expect(row).toBeVisible();
  const id = (await row.getAttribute('data-job-id')) as string;
  await row.click();
  const detail = panel.locator(`.tml-JobDetail[data-job-id="${id}"]`);
  await expect(detail.locator('.tml-StateBadge').first()).toHaveText('completed', { timeout: 180000 });
  // The section fetches once more when the job ends.
  const section = detail.locator('.tml-Profile');
  await expect(section).toHaveAttribute('data-state', 'recorded', { timeout: 60000 });
  await expect(section.locator('h3')).toHaveText('Profile');
  await expect(section.locator('.tml-Profile-steps')).toContainText('5 steps of');
  await expect(section.locator('.tml-Profile-datawait')).toContainText('Waiting for data:');
  await expect(section.locator('.tml-Profile-top tbody tr').first()).toContainText('aten::');
  await expect(section.locator('.tml-Profile-advice').first()).toContainText('waiting for the DataLoader');
  await expect(section.locator('a.tml-Profile-download')).toHaveAttribute(
    'href',
    new RegExp(`jobs/${id}/profile/trace$`)
  );
  await section.scrollIntoViewIfNeeded();
  await shoot(page, testInfo.outputPath('profile-section-light.png'));
  await setTheme(page, 'JupyterLab Dark');
  await shoot(page, testInfo.outputPath('profile-section-dark.png'));
  await setTheme(page, 'JupyterLab Light');
});
