import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { listApprovedEntries } from "../../../lib/api/rollouts";
import { describeError } from "../../../lib/describeError";
import { firstParam } from "../../../lib/query";
import { can } from "../../../lib/roles";
import { ApiErrorPanel } from "../../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../../ui/common/ErrorPanel";
import { RolloutWizard } from "../../../ui/rollouts/RolloutWizard";
import { createRolloutAction } from "./actions";

export const metadata: Metadata = { title: "New rollout" };

export default async function NewRolloutPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await connection();
  const sp = await searchParams;
  const header = (
    <>
      <p className="breadcrumb">
        <Link href="/rollouts">← Rollouts</Link>
      </p>
      <h1>New rollout</h1>
    </>
  );
  if (!(await can("operator"))) {
    return (
      <>
        {header}
        <ErrorPanel title="Your role cannot start rollouts">
          <p>Starting a rollout needs the operator or admin role.</p>
        </ErrorPanel>
      </>
    );
  }
  let entries;
  try {
    entries = (await listApprovedEntries()).items;
  } catch (e) {
    return (
      <>
        {header}
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }
  return (
    <>
      {header}
      <p className="subtitle">Send an approved model to the fleet in rings; each ring must pass its gates before the next starts.</p>
      {entries.length === 0 ? (
        <section className="panel empty">
          <p>No approved catalog entries. An admin approves an entry in the catalog first.</p>
        </section>
      ) : (
        <RolloutWizard
          action={createRolloutAction}
          entries={entries.map((e) => ({ id: e.id, label: `${e.facts.name} ${e.facts.version} (${e.targetPath})` }))}
          initialEntryId={firstParam(sp.entryId) ?? null}
        />
      )}
    </>
  );
}
