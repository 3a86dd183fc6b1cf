/** "?a=1&b=x" from the non-empty values (undefined, null and "" dropped, so shareable URLs stay clean), or "". */
export function searchString(query: Record<string, string | number | boolean | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** The first value of a search param (Next gives string | string[] | undefined), "" treated as absent. */
export function firstParam(v: string | string[] | undefined): string | undefined {
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

/**
 * A `<input type="datetime-local">` value ("2026-01-31T09:30", read as UTC as the page says) as an ISO instant;
 * an ISO instant passes through; anything else is undefined (the server would refuse it).
 */
export function localInputToIso(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(v);
  const iso = m ? `${m[1]}T${m[2]}${m[3] ?? ":00"}Z` : v;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) || !/^\d{4}-/.test(iso) ? undefined : d.toISOString();
}

/** An ISO instant as a datetime-local value in UTC ("2026-01-31T09:30"), for refilling the filter form. */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 16);
}

/**
 * Clicking a sortable column: ascending first, the same column again flips it. Returns the new sort value and
 * how the column is sorted now (for aria-sort).
 */
export function toggleSort(current: string | undefined, column: string, defaultSort: string): { next: string; state: "ascending" | "descending" | "none" } {
  const cur = current ?? defaultSort;
  const state = cur === column ? "ascending" : cur === `-${column}` ? "descending" : "none";
  return { next: cur === column ? `-${column}` : column, state };
}
