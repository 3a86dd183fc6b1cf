import "server-only";
import { io, type Socket } from "socket.io-client";
import { ServerError, ServerUnreachableError } from "../api-errors";

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Open one socket.io connection to the server's /events namespace with the admin token and resolve once
 * it is accepted. No automatic reconnection: when it drops, the browser's EventSource reconnects and a
 * new upstream socket is opened for it, so a refused token or a dead server surfaces as an error there.
 */
export function connectFleetEvents(serverUrl: string, token: string): Promise<Socket> {
  const socket = io(`${serverUrl}/events`, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    // one upstream connection per browser connection: closing one must not close another's
    forceNew: true,
    timeout: CONNECT_TIMEOUT_MS,
  });
  return new Promise<Socket>((resolve, reject) => {
    const done = (err: Error | null) => {
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
      if (err) {
        socket.close();
        reject(err);
      } else resolve(socket);
    };
    const onConnect = () => done(null);
    // The gateway's middleware refuses a bad token with Error("unauthorized"); anything else is transport.
    const onError = (err: Error) =>
      done(
        err.message === "unauthorized"
          ? new ServerError(401, "unauthorized", "the server refused the console's token for its event stream")
          : new ServerUnreachableError(serverUrl, { cause: err }),
      );
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}
