"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/** The console's sections; each page under a section's path marks that link as current. */
export const NAV_ITEMS: ReadonlyArray<{ href: string; label: string }> = [
  { href: "/", label: "Overview" },
  { href: "/devices", label: "Devices" },
  { href: "/compatibility", label: "Compatibility" },
  { href: "/catalog", label: "Catalog" },
  { href: "/rollouts", label: "Rollouts" },
  { href: "/compliance", label: "Compliance" },
  { href: "/audit", label: "Audit" },
];

export function isCurrent(href: string, pathname: string): boolean {
  return href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
}

export function NavLinks() {
  const pathname = usePathname() ?? "/";
  return (
    <nav aria-label="Main" className="main-nav">
      {NAV_ITEMS.map((item) => (
        <Link key={item.href} href={item.href} aria-current={isCurrent(item.href, pathname) ? "page" : undefined}>
          {item.label}
        </Link>
      ))}
    </nav>
  );
}
