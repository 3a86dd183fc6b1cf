import type { ReactNode } from "react";

/** A failure the admin can act on, shown in place of the data it stopped. */
export function ErrorPanel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="notice notice-error" role="alert">
      <h2>{title}</h2>
      {children}
    </section>
  );
}
