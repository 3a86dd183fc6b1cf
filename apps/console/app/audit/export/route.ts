import { cookies } from "next/headers";
import { ErrorCode, errorBody, formatIssues, ZAuditListQueryV1 } from "@fleet/protocol";
import { consoleEnv } from "../../../lib/env";
import { searchString } from "../../../lib/query";
import { SESSION_COOKIE } from "../../../lib/sessionCookie";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const json = (status: number, body: unknown) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

// The audit CSV download: the server's /api/v1/audit.csv streamed through as the signed-in user (read-only GET,
// so no CSRF concern; the server checks the session and the role).
export async function GET(request: Request): Promise<Response> {
  const sp = new URL(request.url).searchParams;
  const { page: _p, pageSize: _s, ...rest } = Object.fromEntries(sp);
  const query = ZAuditListQueryV1.safeParse(rest);
  if (!query.success) return json(400, errorBody(ErrorCode.ValidationFailed, formatIssues(query.error)));
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return json(401, errorBody(ErrorCode.Unauthorized, "sign in first"));
  const { page: _page, pageSize: _size, ...filters } = query.data;
  let upstream: Response;
  try {
    upstream = await fetch(`${consoleEnv().FLEET_SERVER_URL}/api/v1/audit.csv${searchString(filters)}`, {
      headers: { authorization: `Bearer ${token}` },
      cache: "no-store",
      signal: request.signal,
    });
  } catch {
    return json(502, errorBody(ErrorCode.Unavailable, "the Fleetwise server did not answer"));
  }
  if (!upstream.ok || !upstream.body) {
    return new Response(await upstream.text(), { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" } });
  }
  return new Response(upstream.body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": upstream.headers.get("content-disposition") ?? 'attachment; filename="audit.csv"',
      "cache-control": "no-store",
    },
  });
}
