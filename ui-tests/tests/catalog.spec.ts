import { expect, test } from '@jupyterlab/galata';

/**
 * The shared datasets and models sidebar against the real server extension, over the sample dldata
 * tree that jupyter_server_test_config.py generates (nothing is mocked).
 */
const LLAMA = 'dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B';

test('search, open Llama 3, read its README and insert its snippet into a notebook', async ({ page }, testInfo) => {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('tritonml:show-catalog');
  });
  const panel = page.locator('#tritonml-catalog');
  await expect(panel).toBeVisible();
  // The command puts the keyboard in the search box.
  await expect(panel.locator('.tml-CatalogSearch input')).toBeFocused();
  // Both tabs are filled from one listing: models first, datasets one click away.
  await expect(panel.locator('.tml-CatalogEntry').first()).toBeVisible();
  await expect(panel.locator('.tml-CatalogTab[data-kind="model"]')).toHaveAttribute('aria-selected', 'true');
  await panel.locator('.tml-CatalogTab[data-kind="dataset"]').click();
  await expect(panel.locator('.tml-CatalogEntry[data-entry-id="dldata/imagenet"]')).toBeVisible();
  await panel.locator('.tml-CatalogTab[data-kind="model"]').click();
  // Rows are listed from names first; the server's background fills their details in, and the
  // list picks them up without a reload ("reading details…" goes, parameters come).
  await expect(panel.locator('.tml-CatalogEntry-details')).toHaveCount(0, { timeout: 30000 });
  await expect(panel.locator(`.tml-CatalogEntry[data-entry-id="${LLAMA}"] .tml-CatalogEntry-params`)).toHaveText(
    '8.0B params'
  );
  await page.screenshot({ path: testInfo.outputPath('catalog-list-light.png') });

  // The size filter asks the server (min_size/max_size) once the background scan knows the sizes.
  const sizeFilter = panel.locator('select.tml-CatalogSize');
  const anyLlama = panel.locator(`.tml-CatalogEntry[data-entry-id="${LLAMA}"]`);
  await sizeFilter.selectOption({ label: 'Under 1 GB' });
  await expect(panel.locator('.tml-CatalogEntry[data-entry-id*="bert-base"]')).toBeVisible({ timeout: 30000 });
  await expect(anyLlama).toHaveCount(0);
  await sizeFilter.selectOption({ label: '10–100 GB' });
  await expect(anyLlama).toBeVisible({ timeout: 30000 });
  await expect(panel.locator('.tml-CatalogEntry[data-entry-id*="bert-base"]')).toHaveCount(0);
  await sizeFilter.selectOption({ label: 'Any size' });
  await expect(panel.locator('.tml-CatalogEntry[data-entry-id*="bert-base"]')).toBeVisible();

  // Typing searches on the server.
  await panel.locator('.tml-CatalogSearch input').click();
  await page.keyboard.type('llama');
  const llama = panel.locator(`.tml-CatalogEntry[data-entry-id="${LLAMA}"]`);
  await expect(llama).toBeVisible();
  await expect(panel.locator('.tml-CatalogEntry[data-entry-id*="bert-base"]')).toHaveCount(0);
  await expect(llama.locator('.tml-CatalogEntry-params')).toHaveText('8.0B params');

  // Entries are buttons: Enter opens the detail.
  await llama.focus();
  await page.keyboard.press('Enter');
  const detail = panel.locator('.tml-CatalogDetail');
  await expect(detail.locator('.tml-CatalogDetail-title')).toContainText('Meta-Llama-3-8B');
  await expect(detail.locator('.tml-CatalogDetail-params')).toHaveText('8.0B params');
  // The README is rendered as Markdown (a heading, not "# Meta Llama 3"), front matter removed.
  const readme = detail.locator('.tml-CatalogReadme .jp-RenderedMarkdown');
  await expect(readme.locator('h1').first()).toContainText('Meta Llama 3');
  await expect(readme).not.toContainText('pipeline_tag');
  await expect(detail.locator('.tml-CatalogSnippet')).toContainText('HF_HUB_OFFLINE');
  await expect(detail.locator('.tml-CatalogFacts')).toContainText('LlamaForCausalLM');
  await page.screenshot({ path: testInfo.outputPath('catalog-detail-light.png') });
  await readme.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('catalog-readme-light.png') });

  // Without a notebook, Insert says what to do.
  await detail.locator('[data-action="insert-snippet"]').click();
  await expect(page.locator('.Toastify__toast').filter({ hasText: 'Open a notebook first' })).toBeVisible();

  // With a notebook: a new code cell below the active one holds the snippet.
  await page.notebook.createNew('catalog.ipynb');
  await page.notebook.setCell(0, 'code', 'print("first cell")');
  await page.notebook.selectCells(0);
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('tritonml:show-catalog');
  });
  await expect(detail).toBeVisible();
  await detail.locator('[data-action="insert-snippet"]').click();
  await expect.poll(async () => page.notebook.getCellCount()).toBe(2);
  expect(await page.notebook.getCellType(1)).toBe('code');
  const source = await page.notebook.getCellTextInput(1);
  expect(source).toContain('HF_HUB_OFFLINE');
  expect(source).toContain('from_pretrained(model_id');
  expect(await page.notebook.getCellTextInput(0)).toBe('print("first cell")');

  // "Use in a job" opens the New job dialog with the snippet and the offline environment.
  await detail.locator('[data-action="use-in-job"]').click();
  const dialog = page.locator('.tml-NewJobDialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('input[name="name"]')).toHaveValue('use-Meta-Llama-3-8B');
  await expect(dialog.locator('.tml-JobForm-script')).toContainText('export HF_HUB_OFFLINE=1');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  // Escape goes back to the list, with the search kept.
  await detail.locator('.tml-CatalogBack').focus();
  await page.keyboard.press('Escape');
  await expect(panel.locator('.tml-CatalogDetail')).toHaveCount(0);
  await expect(panel.locator('.tml-CatalogSearch input')).toHaveValue('llama');
  await expect(llama).toBeFocused();
});

test('the catalog in the dark theme, and its command in the palette', async ({ page }, testInfo) => {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('apputils:change-theme', { theme: 'JupyterLab Dark' });
  });
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-name', 'JupyterLab Dark');
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('tritonml:show-catalog');
  });
  const panel = page.locator('#tritonml-catalog');
  await expect(panel.locator('.tml-CatalogEntry').first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('catalog-list-dark.png') });
  await panel.locator('.tml-CatalogTab[data-kind="dataset"]').click();
  await panel.locator('.tml-CatalogEntry[data-entry-id="dldata/imagenet"]').click();
  const detail = panel.locator('.tml-CatalogDetail');
  await expect(detail.locator('.tml-CatalogReadme .jp-RenderedMarkdown')).toBeVisible();
  await expect(detail.locator('.tml-CatalogFacts')).toContainText('Russakovsky');
  // The README's relative image (docs/class-groups.png) loads from the catalog-image endpoint.
  const image = detail.locator('.tml-CatalogReadme img[alt="One colour per class group"]');
  await expect(image).toHaveAttribute('src', /catalog-image\?id=dldata%2Fimagenet&path=docs%2Fclass-groups\.png/);
  await expect.poll(async () => image.evaluate(img => (img as HTMLImageElement).naturalWidth)).toBe(96);
  await page.screenshot({ path: testInfo.outputPath('catalog-detail-dark.png') });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('apputils:change-theme', { theme: 'JupyterLab Light' });
  });

  await page.keyboard.press('Control+Shift+C');
  await page.locator('#modal-command-palette input').fill('Shared Datasets');
  await expect(page.locator('#modal-command-palette li[data-command="tritonml:show-catalog"]')).toBeVisible();
});
