import Link from "next/link";

export default function CatalogEntryNotFound() {
  return (
    <section className="panel empty">
      <h1>Catalog entry not found</h1>
      <p className="muted">No catalog entry has this id.</p>
      <p>
        <Link href="/catalog">Back to the catalog</Link>
      </p>
    </section>
  );
}
