import type { TDeviceDetailV1 } from "@fleet/protocol";
import { formatBytes, formatDateTime } from "../../lib/format/index";

/** Recent inventory snapshots, newest first: how free RAM and model-disk space moved. */
export function InventoryHistory({ history }: { history: TDeviceDetailV1["inventoryHistory"] }) {
  return (
    <section className="panel" aria-labelledby="hist-title">
      <h2 id="hist-title">Inventory history</h2>
      {history.length === 0 ? (
        <p className="muted">No snapshots yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col" className="num">RAM free</th>
                <th scope="col" className="num">Models dir free</th>
              </tr>
            </thead>
            <tbody>
              {history.map((h) => (
                <tr key={h.id}>
                  <td>{formatDateTime(h.receivedAt)}</td>
                  <td className="num">{formatBytes(h.ramFreeBytes)}</td>
                  <td className="num">{formatBytes(h.modelsDirFreeBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
