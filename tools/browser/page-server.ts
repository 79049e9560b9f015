/**
 * Serve a bundled page from 127.0.0.1 and open it in the system Chromium with playwright-core.
 *
 * Why a server and not `page.setContent` or a file:// URL: WebGPU exists only in secure contexts,
 * and http://127.0.0.1 is one (about:blank and data: URLs do not expose `navigator.gpu`). The
 * server binds a random free port and lives as long as the page.
 *
 * The browser is /usr/bin/chromium (Debian: `apt-get install -y chromium`), never a Playwright
 * download. Flags, found by trying them headless on Debian 12 with Chromium 156:
 *   --enable-unsafe-webgpu             without it headless Linux Chromium has navigator.gpu but
 *                                      requestAdapter() answers null ("No available adapters.")
 *   --use-webgpu-adapter=swiftshader   pick Dawn's SwiftShader (Vulkan on the CPU) adapter even on a
 *                                      machine with a GPU, so results do not depend on the host
 *   --use-angle=swiftshader            the same for WebGL / WebGL2 (ANGLE on SwiftShader); it is also
 *                                      what headless Chromium falls back to without a GPU
 *   --enable-features=Vulkan           lets ANGLE and Dawn use the Vulkan SwiftShader ICD
 * Playwright adds --headless and (by default) --no-sandbox, which CI containers running as root need.
 *
 * Not here: bundling (bundle.ts) or assertions (test/browser/shaders.test.ts).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--enable-features=Vulkan',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface OpenPage {
  page: Page;
  url: string;
  /** Console lines and page errors, minus the driver's "GPU stall due to ReadPixels" notices. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * Serve `script` in an empty HTML page on 127.0.0.1 and open it in headless Chromium. `files` are
 * served too, by URL path (e.g. '/fixtures/train/mlp.safetensors'), for the page to `fetch`.
 */
export async function openPage(
  script: string, args: readonly string[] = CHROMIUM_ARGS, files: ReadonlyMap<string, Uint8Array> = new Map(),
): Promise<OpenPage> {
  const server = createServer((req, res) => {
    // Cross-origin isolation enables SharedArrayBuffer (gpu.js webasm threads) in the page.
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    const file = files.get(req.url ?? '');
    if (file) {
      res.writeHead(200, { ...headers, 'Content-Type': 'application/octet-stream' }).end(file);
    } else if (req.url === '/page.js') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(script);
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' })
        .end('<!doctype html><meta charset="utf-8"><title>spt-seg shaders</title><script src="/page.js"></script>');
    } else {
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...args], headless: true });
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => { if (!m.text().includes('GPU stall due to ReadPixels')) logs.push(`[${m.type()}] ${m.text()}`); });
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    await page.goto(url);
    const opened = browser;
    return { page, url, logs, close: async () => { await opened.close(); await closeServer(server); } };
  } catch (e) {
    await browser?.close();
    await closeServer(server);
    throw e;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
