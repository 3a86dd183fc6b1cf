import { cookies } from "next/headers";
import { ErrorCode, errorBody, formatIssues, ZComplianceReportQueryV1 } from "@fleet/protocol";
import { COMPLIANCE_EXPORTS, type ComplianceExportFormat } from "../../../../lib/api/compliance";
import { consoleEnv } from "../../../../lib/env";
import { searchString } from "../../../../lib/query";
import { SESSION_COOKIE } from "../../../../lib/sessionCookie";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const json = (status: number, body: unknown) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

// Compliance downloads (CSV, signed JSON, PDF, destinations CSV): the server's export streamed through as the
// signed-in user, so the browser never holds a server token. Read-only GET; the server checks session and role.
export async function GET(request: Request, { params }: { params: Promise<{ format: string }> }): Promise<Response> {
  const { format } = await params;
  if (!Object.hasOwn(COMPLIANCE_EXPORTS, format)) return json(404, errorBody(ErrorCode.NotFound, `unknown export format "${format}"`));
  const path = COMPLIANCE_EXPORTS[format as ComplianceExportFormat];
  const deviceIds = new URL(request.url).searchParams.get("deviceIds") ?? undefined;
  const query = ZComplianceReportQueryV1.safeParse({ deviceIds });
  if (!query.success) return json(400, errorBody(ErrorCode.ValidationFailed, formatIssues(query.error)));
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return json(401, errorBody(ErrorCode.Unauthorized, "sign in first"));
  let upstream: Response;
  try {
    upstream = await fetch(`${consoleEnv().FLEET_SERVER_URL}${path}${searchString({ deviceIds: query.data.deviceIds?.join(",") })}`, {
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
      "content-type": upstream.headers.get("content-type") ?? "application/octet-stream",
      "content-disposition": upstream.headers.get("content-disposition") ?? `attachment; filename="compliance-${format}"`,
      "cache-control": "no-store",
    },
  });
}
