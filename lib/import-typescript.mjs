// Plain JavaScript (it runs before any TypeScript can): imports a TypeScript entry point with
// tsx registered, then takes tsx's hooks off again. The web process (scripts/web-entry.mjs)
// needs TypeScript only while scripts/serve.ts and the lib/ modules it imports load; after
// that it loads JavaScript only (.next, node_modules), yet with tsx registered every
// `require` Next makes while answering a request went through tsx's resolver, and every
// stack trace through source maps: ~0.25 ms of CPU per API request (decision 112).
import { register as registerEsm } from "tsx/esm/api";
import { register as registerCjs } from "tsx/cjs/api";

/** Imports `url` (and everything it imports) with tsx, then removes tsx's hooks. */
export async function importTypeScript(url) {
  const offEsm = registerEsm();
  const offCjs = registerCjs();
  try {
    return await import(url);
  } finally {
    await offEsm();
    offCjs();
  }
}
