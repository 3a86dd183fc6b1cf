/** What to do when nothing has enrolled yet: the two commands that enroll a workstation. */
export function EmptyFleet({ serverUrl }: { serverUrl: string }) {
  return (
    <section className="panel empty" aria-labelledby="empty-title">
      <h2 id="empty-title">No devices enrolled yet</h2>
      <p className="muted">Create a one-time enrollment token on the server, then enroll each workstation with it:</p>
      <pre>
        <code>
          {`# on the server host\nfleet-server token create --ttl 86400\n\n# on the workstation\nfleet-agent enroll --server ${serverUrl} --token <token>\nfleet-agent run`}
        </code>
      </pre>
      <p className="muted">The device appears here as soon as its first report arrives.</p>
    </section>
  );
}
