/**
 * How the registry client sends a request. The global fetch trusts only the system CAs and takes
 * no per-request CA (undici's Agent is not part of Node's public API), so a configured CA bundle
 * goes through node:https with the same request shape and a web Response back.
 */
import { request } from 'node:https';
import { Readable } from 'node:stream';

export type Send = (url: string, init: RequestInit & { signal: AbortSignal }) => Promise<Response>;

/** Statuses whose Response may not carry a body (the constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** fetch as it is, or — with `ca` and an https URL — node:https trusting that bundle instead of the system CAs. */
export function transport(ca: string | undefined): Send {
  if (ca === undefined) return (url, init) => fetch(url, init);
  return (url, init) => {
    if (!url.startsWith('https:')) return fetch(url, init);
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        {
          method: init.method ?? 'GET',
          headers: init.headers as Record<string, string>,
          ca,
          signal: init.signal,
        },
        (res) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          }
          const status = res.statusCode ?? 502;
          if (NULL_BODY.has(status)) res.resume();
          const body = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          resolve(new Response(body, { status, statusText: res.statusMessage ?? '', headers }));
        },
      );
      req.once('error', reject);
      req.end(typeof init.body === 'string' ? init.body : undefined);
    });
  };
}
