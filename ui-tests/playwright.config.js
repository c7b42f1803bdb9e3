/**
 * Galata's configuration, with one change: the browser is Debian's Chromium (/usr/bin/chromium);
 * Playwright never downloads its own (the machines reach no browser download site).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const chromium = process.env.TRITONML_CHROMIUM || '/usr/bin/chromium';

module.exports = {
  ...baseConfig,
  timeout: 120000,
  expect: { timeout: 30000 },
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    ...baseConfig.use,
    baseURL: 'http://localhost:8888',
    trace: 'retain-on-failure',
    // Video needs Playwright's own ffmpeg download, which these machines cannot fetch.
    video: 'off',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage'
      ]
    }
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 180 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
