import { describe, expect, it } from 'vitest';
import { findBrowser } from '../helpers/browser.ts';

const npm = async () => ({ executablePath: '/tmp/chromium', args: ['--headless=shell'] });
const broken = async (): Promise<never> => {
  throw new Error('The input directory "node_modules/@sparticuz/chromium/bin" does not exist.');
};

describe('findBrowser', () => {
  it('takes CHROME_PATH first, and refuses one that is not executable', async () => {
    await expect(findBrowser({ env: { CHROME_PATH: '/opt/chrome' }, isExecutable: (p) => p === '/opt/chrome', npmChromium: npm })).resolves.toMatchObject({
      executablePath: '/opt/chrome',
      source: 'CHROME_PATH',
    });
    await expect(findBrowser({ env: { CHROME_PATH: '/nowhere/chrome' }, isExecutable: () => false, npmChromium: npm })).rejects.toThrow(
      'CHROME_PATH is /nowhere/chrome, which is not an executable file',
    );
  });

  it('then a system browser at its usual path, then the npm package', async () => {
    const paths = ['/usr/bin/chromium', '/usr/bin/google-chrome'];
    await expect(findBrowser({ env: {}, paths, isExecutable: (p) => p === '/usr/bin/google-chrome', npmChromium: npm })).resolves.toMatchObject({
      executablePath: '/usr/bin/google-chrome',
      source: 'system',
    });
    await expect(findBrowser({ env: {}, paths, isExecutable: () => false, npmChromium: npm })).resolves.toEqual({
      executablePath: '/tmp/chromium',
      args: ['--headless=shell'],
      source: '@sparticuz/chromium',
    });
  });

  it('fails, saying what it tried, when there is no browser at all', async () => {
    await expect(findBrowser({ env: {}, paths: ['/usr/bin/chromium'], isExecutable: () => false, npmChromium: broken })).rejects.toThrow(
      /^no browser for the report test: CHROME_PATH is unset, none of \/usr\/bin\/chromium exists, and @sparticuz\/chromium failed \(The input directory .* does not exist\.\); run npm install, or set CHROME_PATH$/,
    );
  });

  it('on this machine finds one (npm install alone provides it)', async () => {
    const browser = await findBrowser({ env: {} });
    expect(browser.executablePath).not.toBe('');
  });
});
