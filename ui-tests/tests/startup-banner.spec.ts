import { expect, test } from '@jupyterlab/galata';
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';

import { shoot } from './helpers';

/**
 * Misconfiguration explains itself: a second JupyterLab whose admin config has a bad
 * c.TritonML.catalog_roots item. The server side of tritonml-lab cannot start; every tritonml
 * sidebar says why and whom to tell, instead of staying empty.
 */
const PORT = 8899;
const BASE = `http://localhost:${PORT}`;
let server: ChildProcess | null = null;

test.use({ baseURL: BASE });

test.beforeAll(async () => {
  server = spawn('jupyter', ['lab', '--config', 'jupyter_server_broken_config.py'], {
    cwd: path.resolve(__dirname, '..'),
    stdio: 'ignore'
  });
  const deadline = Date.now() + 120000;
  for (;;) {
    try {
      if ((await fetch(`${BASE}/api/status`)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`the broken-config JupyterLab did not start on port ${PORT}`);
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
});

test.afterAll(() => {
  server?.kill('SIGTERM');
});

const REASON =
  /tritonml-lab could not start: c\.TritonML\.catalog_roots items look like .*'shared data'.* — tell your admins/;

test('every tritonml sidebar says why tritonml-lab could not start', async ({ page, request }, testInfo) => {
  const status = await (await request.get(`${BASE}/tritonml/status`)).json();
  expect(status.ok).toBe(false);
  expect(status.reason).toContain('c.TritonML.catalog_roots');

  for (const [command, id] of [
    ['tritonml:show-cluster', 'tritonml-cluster'],
    ['tritonml:show-catalog', 'tritonml-catalog'],
    ['tritonml:show-jobs', 'tritonml-jobs']
  ]) {
    await page.evaluate(async name => {
      await window.jupyterapp.commands.execute(name);
    }, command);
    const banner = page.locator(`#${id} > .tml-StartupBanner`);
    await expect(banner).toBeVisible();
    await expect(banner).toHaveText(REASON);
  }
  await shoot(page, testInfo.outputPath('startup-banner-light.png')); // for docs/images (dev/screenshots)
  // The sidebars' own requests get the same reason instead of a bare 404.
  await expect(page.locator('#tritonml-cluster .tml-Banner:not(.tml-StartupBanner)')).toContainText(
    'tritonml-lab could not start'
  );
});
