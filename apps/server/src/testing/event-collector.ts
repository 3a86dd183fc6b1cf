import { io, type Socket } from "socket.io-client";
import type { TFleetEventV1 } from "@fleet/protocol";

/** A websocket client of a server's /events with `token` that collects every event; resolves once connected. */
export async function collectEvents(url: string, token: string): Promise<{ events: TFleetEventV1[]; socket: Socket }> {
  const socket = io(`${url}/events`, { auth: { token }, transports: ["websocket"], reconnection: false });
  const events: TFleetEventV1[] = [];
  socket.onAny((_name: string, msg: TFleetEventV1) => events.push(msg));
  await new Promise<void>((resolve, reject) => {
    socket.on("connect", () => resolve());
    socket.on("connect_error", reject);
  });
  return { events, socket };
}
