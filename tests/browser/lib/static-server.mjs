// A tiny static server for the test portal (another origin than citypeers).
// `__CITYPEERS__` in HTML files is replaced by the citypeers origin.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname, normalize } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

export function startPortal(root, port, citypeersOrigin) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path.endsWith('/') ? path + 'index.html' : path);
    try {
      let body = await readFile(file);
      if (extname(file) === '.html') body = Buffer.from(body.toString('utf8').replaceAll('__CITYPEERS__', citypeersOrigin));
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

// Run directly: node lib/static-server.mjs PORT CITYPEERS_ORIGIN
if (import.meta.url === `file://${process.argv[1]}`) {
  const [port, origin] = process.argv.slice(2);
  const root = new URL('../portal/', import.meta.url).pathname;
  await startPortal(root, Number(port), origin);
  console.log(`portal on http://127.0.0.1:${port}/`);
}
