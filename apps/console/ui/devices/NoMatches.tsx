import Link from "next/link";

export function NoMatches() {
  return (
    <section className="panel empty">
      <h2>No device matches these filters</h2>
      <p>
        <Link href="/devices">Clear the filters</Link>
      </p>
    </section>
  );
}
