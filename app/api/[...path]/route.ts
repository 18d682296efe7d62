// Any /api path no other route handles — the contract's JSON 404 instead of Next's HTML page
import { errorJson } from "@/lib/http";

export const dynamic = "force-dynamic";

const notFound = async () => errorJson("NOT_FOUND", "No such API endpoint");

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE, notFound as HEAD, notFound as OPTIONS };
