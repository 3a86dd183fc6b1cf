import type { Metadata } from "next";
import { SetupForm } from "./setup-form";

export const metadata: Metadata = { title: "Set your password" };

export default async function SetupPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const token = (await searchParams).token;
  return (
    <section className="panel signin">
      <h1>Set your password</h1>
      {typeof token === "string" && token ? (
        <>
          <p className="muted">Choose a password of at least 12 characters. This link works once.</p>
          <SetupForm token={token} />
        </>
      ) : (
        <p className="notice notice-error" role="alert">
          This page needs the setup link an admin gave you (it ends in <code>?token=…</code>).
        </p>
      )}
    </section>
  );
}
