// `npm run cycles`: no import cycle among lib/, app/ and components/ (eslint-plugin-import-x,
// resolving `@/` and TypeScript paths). Type-only imports count too: a cycle of types is
// still a sign that two modules should be one, or that a third is missing. Also the layering
// that keeps cycles away: the backup domain imports nothing from deploy, notify or app/
// (they subscribe to its events), and nothing in lib/ imports app/ or components/.
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

export default defineConfig([
  globalIgnores([".next/**", "node_modules/**", "lib/generated/**"]),
  {
    files: ["lib/**/*.{ts,tsx}", "app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    languageOptions: { parser: tseslint.parser, parserOptions: { ecmaVersion: "latest", sourceType: "module" } },
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
      // Imported files are parsed too, to follow the chain: with TypeScript's parser.
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx"] },
      "import-x/extensions": [".ts", ".tsx", ".js", ".mjs"],
    },
    rules: {
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            { target: "./lib/backup", from: ["./lib/deploy", "./lib/notify", "./lib/worker"], message: "lib/backup is the domain: deploy and notify subscribe to its events (lib/worker wires them)." },
            { target: "./lib", from: ["./app", "./components"], message: "lib/ does not import the UI or route handlers." },
          ],
        },
      ],
    },
  },
]);
