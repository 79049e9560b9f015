/**
 * `npm run page`: bundle the web page and serve it on 127.0.0.1 only, with the COOP / COEP headers
 * that make the page cross-origin isolated (SharedArrayBuffer, which the wasm backend needs).
 *
 *     npm run page -- --clip assets/world-clip.safetensors --weights runs/world/weights.safetensors --port 8080
 *
 * Defaults: assets/world-clip.safetensors, assets/world-sptseg.safetensors, a free port. Prints the URL.
 * Does not: open a browser, or listen on any address but 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pageArgs, pageFiles, type PageFile } from './files.ts';

export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

export interface ServedPage {
  url: string;
  close(): Promise<void>;
}

/** Serve `files` (by URL path) on 127.0.0.1:`port` (0 = a free one). */
export async function servePage(files: ReadonlyMap<string, PageFile>, port = 0): Promise<ServedPage> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const file = files.get(path === '/' ? '/index.html' : path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, ISOLATION_HEADERS).end();
    } else if (file) {
      res.writeHead(200, { ...ISOLATION_HEADERS, 'Content-Type': file.type, 'Cache-Control': 'no-cache' }).end(file.body);
    } else {
      res.writeHead(path === '/favicon.ico' ? 204 : 404, ISOLATION_HEADERS).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const args = pageArgs(process.argv.slice(2), ['port']);
    const port = args.port === undefined ? 0 : Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535], got ${args.port}`);
    const files = await pageFiles(args);
    const config = JSON.parse(String(files.get('/page-config.json')!.body)) as Record<string, { missing?: string; hint?: string }>;
    for (const f of Object.values(config)) if (f.missing) console.error(`warning: ${f.missing} is missing; the page will say so: ${f.hint}`);
    const { url } = await servePage(files, port);
    console.log(`spt-seg page: ${url}  (Ctrl-C to stop)`);
  } catch (e) {
    console.error(`npm run page: ${(e as Error).message}`);
    process.exit(2);
  }
}
