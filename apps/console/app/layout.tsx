import type { Metadata } from "next";
import type { ReactNode } from "react";
import Link from "next/link";
import { GeistSans } from "geist/font/sans";
import { GeistMono } from "geist/font/mono";
import type { TUserV1 } from "@fleet/protocol";
import { currentSession } from "../lib/api";
import { NavLinks } from "../ui/shell/NavLinks";
import { UserMenu } from "../ui/shell/UserMenu";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Overview · Fleetwise", template: "%s · Fleetwise" },
  description: "Fleetwise admin console: workstations, local models, compatibility, rollouts and audit.",
};

async function signedInUser(): Promise<TUserV1 | null> {
  try {
    return (await currentSession())?.user ?? null;
  } catch {
    // server unreachable or misconfigured: the page itself shows that panel; the header just has no user
    return null;
  }
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await signedInUser();
  return (
    <html lang="en">
      <body className={`${GeistSans.variable} ${GeistMono.variable}`}>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <div className="inner">
            <Link className="brand" href="/">
              Fleetwise
            </Link>
            {user ? (
              <>
                <NavLinks />
                <UserMenu user={user} />
              </>
            ) : null}
          </div>
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}
