import type { Metadata } from "next";
import { ApiDocs } from "@/components/api-docs/api-docs";
import { openApiDocument } from "@/lib/openapi/document";

export const metadata: Metadata = { title: "API" };

// Any signed-in user (the layout sends others to /login): the document says who may call what.
export default function ApiDocsPage() {
  return <ApiDocs doc={openApiDocument()} />;
}
