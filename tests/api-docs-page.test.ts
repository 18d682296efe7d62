// The /api-docs page rendered (on the server, as Next does) from the real document: every
// operation appears once with its method and path, who may call it, its parameters and
// the schemas it links to exist on the page.
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { ApiDocs } from "../components/api-docs/api-docs";
import { ENDPOINTS, openApiDocument } from "../lib/openapi/document";

const doc = openApiDocument();
const html = renderToStaticMarkup(createElement(ApiDocs, { doc }));
const text = html.replace(/<[^>]+>/g, " ").replace(/&quot;/g, '"').replace(/&amp;/g, "&").replace(/\s+/g, " ");

describe("the API docs page", () => {
  it("shows every operation once, grouped under its tag", () => {
    expect(html.match(/data-testid="api-operation"/g)?.length).toBe(ENDPOINTS.length);
    for (const e of ENDPOINTS) expect(text).toContain(`${e.method.toUpperCase()} ${e.path}`);
    const gate = html.indexOf('id="postDeployGate"');
    expect(gate).toBeGreaterThan(html.indexOf('id="tag-Deploy"'));
    expect(gate).toBeLessThan(html.indexOf('id="tag-Checks"'));
  });

  it("says who may call, the parameters and the bodies", () => {
    expect(text).toContain("Who: Role OPERATOR or higher; or an API token with the deploy scope");
    expect(text).toMatch(/limit in query, optional · integer \(≥ 1, ≤ 200, default 50\)/);
    expect(text).toMatch(/commitSha · string \(matches/);
    expect(text).toContain("428 Blocked");
  });

  it("links every referenced schema to its section on the page", () => {
    const links = [...html.matchAll(/href="#(schema-[A-Za-z]+)"/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(20);
    for (const l of new Set(links)) expect(html).toContain(`id="${l}"`);
    expect(Object.keys(doc.components?.schemas ?? {}).every((n) => html.includes(`id="schema-${n}"`))).toBe(true);
  });

  it("loads nothing from another origin (the CSP allows none)", () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
