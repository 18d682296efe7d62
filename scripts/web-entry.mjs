// The web server process (scripts/start.ts spawns it; with WEB_CONCURRENCY > 1 node:cluster
// runs it again for each web process): scripts/serve.ts, with tsx only while it loads.
import { importTypeScript } from "../lib/import-typescript.mjs";

await importTypeScript(new URL("./serve.ts", import.meta.url).href);
