import Link from "next/link";

/** Previous/next links that keep the current filters; plain links so they work without JavaScript. */
export function Pagination({ page, pageSize, total, hrefFor, noun = ["device", "devices"] }: { page: number; pageSize: number; total: number; hrefFor: (page: number) => string; noun?: [string, string] }) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <nav className="pagination" aria-label="Pagination">
      {page > 1 ? <Link href={hrefFor(page - 1)} rel="prev">← Previous</Link> : <span className="disabled">← Previous</span>}
      <span>
        Page {Math.min(page, pages)} of {pages} · {total} {total === 1 ? noun[0] : noun[1]}
      </span>
      {page < pages ? <Link href={hrefFor(page + 1)} rel="next">Next →</Link> : <span className="disabled">Next →</span>}
    </nav>
  );
}
