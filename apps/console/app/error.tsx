"use client";

/** Last-resort boundary: an unexpected failure renders a panel, never a blank page. */
export default function ErrorBoundary({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="notice notice-error" role="alert">
      <h2>Something went wrong</h2>
      <p>The page could not be rendered{error.digest ? ` (reference ${error.digest}, see the console's server log)` : ""}.</p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </section>
  );
}
