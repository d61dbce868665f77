// undici through HTTPS_PROXY, as a Node app would use Sluice for https:// URLs.
//
// Usage: node client.mjs URL...
// EnvHttpProxyAgent reads HTTPS_PROXY / NO_PROXY; Node reads NODE_EXTRA_CA_CERTS at start. All URLs
// go through one agent, so one tunnel serves them (keep-alive inside it). Prints one JSON object;
// the Java test asserts on it. A failed request is reported with its cause's code, not thrown.
import { EnvHttpProxyAgent, fetch } from 'undici';

const dispatcher = new EnvHttpProxyAgent();
const out = { responses: [] };
try {
  for (const url of process.argv.slice(2)) {
    const r = await fetch(url, { dispatcher, signal: AbortSignal.timeout(30_000) });
    out.responses.push({
      status: r.status,
      body: await r.text(),
      cache_status: r.headers.get('cache-status'),
      server_timing: r.headers.get('server-timing'),
    });
  }
} catch (e) {
  out.error = e.cause?.code ?? e.name;
  out.message = String(e.cause?.message ?? e.message);
} finally {
  await dispatcher.close();
}
process.stdout.write(JSON.stringify(out));
