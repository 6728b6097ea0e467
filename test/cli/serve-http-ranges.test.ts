// `serve --http` as a file server is expected to behave: one byte range
// (206), a range past the end (416), If-Range, and conditional requests
// (ETag / If-None-Match and If-Modified-Since give 304). Over node:http on
// tcpts sockets in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileHandler, parseRange } from '../../src/cli/serve.js';
import { B4, realPair } from '../net/helpers.js';

test('parseRange: one range of the file, or unsatisfiable, or null for the whole file', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-500', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange(undefined, 100), null);
  assert.equal(parseRange('bytes=0-1,5-6', 100), null); // several: the whole file
  assert.equal(parseRange('bytes=9-3', 100), null); // invalid: ignored
  assert.equal(parseRange('items=0-3', 100), null);
  assert.equal(parseRange('bytes=-', 100), null);
});

test('--http: 206 for a range, 416 past the end, 304 for a current copy, If-Range', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tcpts-ranges-'));
  const pair = realPair();
  try {
    const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    writeFileSync(join(root, 'f.bin'), content);
    const mtime = new Date('2026-01-02T03:04:05Z');
    utimesSync(join(root, 'f.bin'), mtime, mtime);
    const httpServer = http.createServer(fileHandler(root));
    const server = pair.netB.createServer({ allowHalfOpen: true }, (s) =>
      httpServer.emit('connection', s),
    );
    server.listen(80);
    await once(server, 'listening');
    const get = (headers: Record<string, string>, method = 'GET') =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          const req = http.request(
            {
              host: B4,
              port: 80,
              path: '/f.bin',
              method,
              headers,
              createConnection: () => pair.netA.connect(80, B4),
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({
                  status: res.statusCode!,
                  headers: res.headers,
                  body: Buffer.concat(chunks),
                }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );

    const whole = await get({});
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    assert.equal(whole.headers['last-modified'], mtime.toUTCString());
    const etag = whole.headers.etag!;
    assert.match(etag, /^"[0-9a-f]+-3e8"$/);
    assert.deepEqual(whole.body, content);

    const part = await get({ Range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 100-199/1000');
    assert.equal(part.headers['content-length'], '100');
    assert.deepEqual(part.body, content.subarray(100, 200));

    const tail = await get({ Range: 'bytes=-10' });
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.body, content.subarray(990));

    const past = await get({ Range: 'bytes=1000-' });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], 'bytes */1000');

    // HEAD has no ranges (RFC 9110 §14.2): the whole length.
    const head = await get({ Range: 'bytes=0-9' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1000');

    // If-Range: the range applies to this version only.
    assert.equal((await get({ Range: 'bytes=0-9', 'If-Range': etag })).status, 206);
    const stale = await get({ Range: 'bytes=0-9', 'If-Range': '"0-0"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, 1000);
    assert.equal((await get({ Range: 'bytes=0-9', 'If-Range': mtime.toUTCString() })).status, 206);

    // Conditional GETs.
    const cached = await get({ 'If-None-Match': etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    assert.equal(cached.headers.etag, etag);
    assert.equal((await get({ 'If-None-Match': `"other", W/${etag}` })).status, 304);
    assert.equal((await get({ 'If-None-Match': '"other"' })).status, 200);
    assert.equal((await get({ 'If-Modified-Since': mtime.toUTCString() })).status, 304);
    const later = new Date(mtime.getTime() + 3_600_000).toUTCString();
    assert.equal((await get({ 'If-Modified-Since': later })).status, 304);
    const earlier = new Date(mtime.getTime() - 1000).toUTCString();
    assert.equal((await get({ 'If-Modified-Since': earlier })).status, 200);
    assert.equal((await get({ 'If-Modified-Since': 'not a date' })).status, 200);
    // If-None-Match decides when both are there (RFC 9110 §13.1.3).
    assert.equal(
      (await get({ 'If-None-Match': '"other"', 'If-Modified-Since': later })).status,
      200,
    );
    server.close();
  } finally {
    pair.close();
    rmSync(root, { recursive: true, force: true });
  }
});
