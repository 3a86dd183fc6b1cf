"use client";

import { useRouter } from "next/navigation";
import { useTransition, type FormEvent } from "react";
import type { TDeviceListQueryV1 } from "@fleet/protocol";

const STATUSES: Array<{ value: NonNullable<TDeviceListQueryV1["status"]> | ""; label: string }> = [
  { value: "", label: "Any status" },
  { value: "online", label: "Online" },
  { value: "offline", label: "Offline" },
  { value: "never_seen", label: "Never seen" },
  { value: "revoked", label: "Revoked" },
];

/**
 * Status and search filters. A plain GET form (works without JavaScript); with JavaScript it
 * navigates client-side, drops empty values and goes back to page 1.
 */
export function DeviceFilters({ status, q, gpuVendor, modelSha256, sort }: { status: string; q: string; gpuVendor: string; modelSha256: string; sort: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();

  const apply = (form: HTMLFormElement) => {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (typeof value === "string" && value.trim() !== "") params.set(key, value.trim());
    }
    const qs = params.toString();
    startTransition(() => router.push(qs ? `/devices?${qs}` : "/devices"));
  };

  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    apply(e.currentTarget);
  };

  return (
    <form className="filters" method="get" action="/devices" role="search" onSubmit={onSubmit} aria-busy={pending}>
      <label>
        Status
        <select name="status" defaultValue={status} onChange={(e) => e.currentTarget.form && apply(e.currentTarget.form)}>
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Search hostname or id
        <input type="search" name="q" defaultValue={q} maxLength={200} placeholder="e.g. ws-042" />
      </label>
      <label>
        GPU vendor
        <input type="text" name="gpuVendor" defaultValue={gpuVendor} maxLength={100} placeholder="e.g. nvidia" size={12} />
      </label>
      {modelSha256 ? (
        <label>
          Model sha256
          <input type="text" name="modelSha256" defaultValue={modelSha256} pattern="[0-9a-f]{64}" className="mono" size={20} />
        </label>
      ) : null}
      {sort ? <input type="hidden" name="sort" value={sort} /> : null}
      <button type="submit" disabled={pending}>
        {pending ? "Filtering…" : "Filter"}
      </button>
    </form>
  );
}
