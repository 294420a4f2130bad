/**
 * End-to-end specs (e2e/*.spec.ts): real relays started by the specs' fixtures (see
 * e2e/support/), the built web client (`npm run build:web` first), Debian's Chromium.
 *
 * `npx playwright install` cannot download browsers on these machines, so the specs use the
 * system Chromium (`apt-get install -y chromium`; .ci/run installs it). Override the path with
 * PARLEY_E2E_CHROMIUM where it lives elsewhere.
 */
import { defineConfig } from '@playwright/test';

const CHROMIUM = process.env.PARLEY_E2E_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  // Two workers match the 2-core CI machine; each test starts its own relay and browsers.
  workers: 2,
  fullyParallel: true,
  retries: 0,
  forbidOnly: process.env.CI !== undefined,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    // Kept in test-results/ as CI artifacts (explicit screens go to test-results/screens/).
    screenshot: 'on',
    trace: 'retain-on-failure',
    video: 'off',
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
});
