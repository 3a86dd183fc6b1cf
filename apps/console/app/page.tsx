import { connection } from "next/server";
import { listDevices } from "../lib/api";
import { describeError } from "../lib/describeError";
import { ApiErrorPanel } from "../ui/common/ApiErrorPanel";

export default async function OverviewPage() {
  await connection();
  let counts;
  try {
    const [all, online, offline] = await Promise.all([listDevices({ pageSize: 1 }), listDevices({ pageSize: 1, status: "online" }), listDevices({ pageSize: 1, status: "offline" })]);
    counts = { all: all.total, online: online.total, offline: offline.total };
  } catch (e) {
    return (
      <>
        <h1>Overview</h1>
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }
  return (
    <>
      <h1>Overview</h1>
      <p className="subtitle">The fleet at a glance.</p>
      <div className="cards">
        <div className="card"><div className="value">{counts.all}</div><div className="label">Devices</div></div>
        <div className="card"><div className="value">{counts.online}</div><div className="label">Online</div></div>
        <div className="card"><div className="value">{counts.offline}</div><div className="label">Offline</div></div>
      </div>
    </>
  );
}
