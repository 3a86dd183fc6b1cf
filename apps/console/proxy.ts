import { NextResponse, type NextRequest } from "next/server";
import { PATH_HEADER } from "./lib/pathHeader";
import { loginHref } from "./lib/safeNext";

// Runs before every route: a request without a session cookie goes to sign-in (pages) or gets 401 (API),
// before any page renders. The cookie's validity is checked by the server on each call (a 401 from it
// also sends the user to /login); this is only the cheap first gate.
const SESSION_COOKIE = "fleet_session";
const PUBLIC = [/^\/login$/, /^\/setup$/, /^\/auth\/oidc\/(start|callback)$/];

export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set(PATH_HEADER, `${pathname}${search}`);
  const isPublic = PUBLIC.some((p) => p.test(pathname));
  if (!isPublic && !request.cookies.get(SESSION_COOKIE)?.value) {
    if (pathname.startsWith("/api/")) {
      return NextResponse.json({ error: { code: "unauthorized", message: "sign in first" } }, { status: 401, headers: { "cache-control": "no-store" } });
    }
    return NextResponse.redirect(new URL(loginHref(`${pathname}${search}`), request.url));
  }
  return NextResponse.next({ request: { headers: requestHeaders } });
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
