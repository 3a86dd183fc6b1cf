import type { TDeviceDetailV1 } from "@fleet/protocol";
import { formatBytes, formatDateTime } from "../../lib/format/index";

type Snapshot = NonNullable<TDeviceDetailV1["inventory"]>;

function powerText(p: Snapshot["inventory"]["power"]): string {
  if (!p.hasBattery) return p.acConnected === false ? "No battery, AC off" : "Mains (no battery)";
  const parts = [p.percent !== null ? `Battery ${Math.round(p.percent)} %` : "Battery"];
  if (p.isCharging) parts.push("charging");
  if (p.acConnected !== null) parts.push(p.acConnected ? "on AC" : "on battery");
  return parts.join(", ");
}

/** The latest inventory snapshot: CPU, memory, GPUs, disks, OS and power. */
export function InventoryPanel({ snapshot }: { snapshot: TDeviceDetailV1["inventory"] }) {
  if (!snapshot) {
    return (
      <section className="panel" aria-labelledby="inv-title">
        <h2 id="inv-title">Inventory</h2>
        <p className="muted">No inventory report received yet.</p>
      </section>
    );
  }
  const inv = snapshot.inventory;
  return (
    <section className="panel" aria-labelledby="inv-title">
      <h2 id="inv-title">Inventory</h2>
      <p className="muted">
        Collected {formatDateTime(inv.collectedAt)}, received {formatDateTime(snapshot.receivedAt)}
      </p>
      <div className="grid">
        <dl className="facts">
          <dt>CPU</dt>
          <dd>
            {inv.cpu.manufacturer} {inv.cpu.brand}
          </dd>
          <dt>Cores</dt>
          <dd>
            {inv.cpu.cores} logical, {inv.cpu.physicalCores} physical{inv.cpu.speedGHz !== null ? ` · ${inv.cpu.speedGHz.toFixed(2)} GHz` : ""}
          </dd>
          <dt>RAM total</dt>
          <dd>{formatBytes(inv.memory.totalBytes)}</dd>
          <dt>RAM free</dt>
          <dd>
            {formatBytes(inv.memory.freeBytes)} <span className="muted">({formatBytes(inv.memory.availableBytes)} available)</span>
          </dd>
          <dt>Swap</dt>
          <dd>
            {formatBytes(inv.memory.swapFreeBytes)} free of {formatBytes(inv.memory.swapTotalBytes)}
          </dd>
        </dl>
        <dl className="facts">
          <dt>OS</dt>
          <dd>
            {inv.os.distro} {inv.os.release} <span className="muted">({inv.os.platform})</span>
          </dd>
          <dt>Kernel</dt>
          <dd>
            {inv.os.kernel} · {inv.os.arch}
          </dd>
          <dt>Hostname</dt>
          <dd>{inv.os.hostname}</dd>
          <dt>Power</dt>
          <dd>{powerText(inv.power)}</dd>
          <dt>Models dir</dt>
          <dd>
            <code>{inv.modelsDir.path}</code> · {formatBytes(inv.modelsDir.freeBytes)} free of {formatBytes(inv.modelsDir.sizeBytes)}
          </dd>
        </dl>
      </div>

      <h3>GPUs</h3>
      {inv.gpus.length === 0 ? (
        <p className="muted">No GPU reported.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Vendor</th>
                <th scope="col">Model</th>
                <th scope="col" className="num">VRAM</th>
                <th scope="col" className="num">VRAM free</th>
                <th scope="col">Driver</th>
                <th scope="col">Bus</th>
              </tr>
            </thead>
            <tbody>
              {inv.gpus.map((g, i) => (
                <tr key={i}>
                  <td>{g.vendor}</td>
                  <td>{g.model}</td>
                  <td className="num">{formatBytes(g.vramBytes)}</td>
                  <td className="num">{formatBytes(g.vramFreeBytes)}</td>
                  <td>{g.driverVersion ?? "—"}</td>
                  <td>{g.bus ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Disks</h3>
      {inv.disks.length === 0 ? (
        <p className="muted">No disk reported.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Mount</th>
                <th scope="col">Filesystem</th>
                <th scope="col" className="num">Size</th>
                <th scope="col" className="num">Free</th>
              </tr>
            </thead>
            <tbody>
              {inv.disks.map((d) => (
                <tr key={d.mount}>
                  <td>
                    <code>{d.mount}</code>
                  </td>
                  <td>{d.fsType}</td>
                  <td className="num">{formatBytes(d.sizeBytes)}</td>
                  <td className="num">{formatBytes(d.freeBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
