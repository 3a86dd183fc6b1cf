import { Inject, Injectable } from "@nestjs/common";
import { ErrorCode, verifyDeviceAuthorization } from "@fleet/protocol";
import { isAdminBearer } from "../common/admin-token.js";
import { AppError } from "../common/app-error.js";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { DeviceKeyCache } from "../devices/device-key.cache.js";

export type RequestCaller = { kind: "admin" } | { kind: "device"; deviceId: string };

interface HttpRequestLike {
  method: string;
  originalUrl: string;
  headers: Record<string, unknown>;
}

/**
 * Who is asking for catalog metadata or bytes: an enrolled, active device proving it with a request-bound JWS
 * (`FleetDevice <jws>`), or (where allowed) the admin token. Anything else is 401.
 */
@Injectable()
export class DeviceRequestAuth {
  constructor(
    private readonly keys: DeviceKeyCache,
    @Inject(CONFIG) private readonly config: ServerConfig,
  ) {}

  async check(req: HttpRequestLike, opts: { allowAdmin: boolean }): Promise<RequestCaller> {
    const header = typeof req.headers.authorization === "string" ? req.headers.authorization : undefined;
    if (opts.allowAdmin && header?.startsWith("Bearer ")) {
      if (isAdminBearer(header, this.config.adminToken)) return { kind: "admin" };
      throw new AppError(ErrorCode.Unauthorized, "invalid admin token");
    }
    const path = req.originalUrl.split("?")[0]!;
    const res = await verifyDeviceAuthorization(header, { method: req.method, path }, (id) => this.keys.resolve(id));
    if (!res.ok) throw new AppError(ErrorCode.Unauthorized, res.reason);
    return { kind: "device", deviceId: res.deviceId };
  }
}
