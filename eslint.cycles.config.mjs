// `npm run cycles`: no import cycle among lib/, app/ and components/ (eslint-plugin-import-x,
// resolving `@/` and TypeScript paths). Type-only imports count too: a cycle of types is
// still a sign that two modules should be one, or that a third is missing.
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
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
]);
