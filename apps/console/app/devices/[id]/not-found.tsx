import Link from "next/link";

export default function DeviceNotFound() {
  return (
    <section className="panel empty">
      <h1>Device not found</h1>
      <p className="muted">No enrolled device has this id. It may have been mistyped, or removed.</p>
      <p>
        <Link href="/devices">Back to the fleet inventory</Link>
      </p>
    </section>
  );
}
