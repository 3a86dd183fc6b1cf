import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { Controller, Get, Param, Req, Res } from "@nestjs/common";
import { ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags, ApiUnauthorizedResponse } from "@nestjs/swagger";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, ZTargetPath } from "@fleet/protocol";
import { Public } from "../common/auth-metadata.js";
import { AppError, NotFoundError } from "../common/app-error.js";
import { ErrorBodyDto } from "../common/error-body.dto.js";
import { parseByteRange } from "./byte-range.js";
import { DeviceRequestAuth } from "./device-request-auth.js";
import { parseTufFileName } from "./tuf-metadata.js";
import { TufRepositoryService } from "./tuf-repository.service.js";

type Request = IncomingMessage & { method: string; originalUrl: string; headers: Record<string, unknown> };
type Response = ServerResponse;

const DEVICE_AUTH_HEADER = { name: "authorization", description: "`FleetDevice <jws>` (device-authenticated request, see @fleet/protocol deviceAuthorization)", required: true };

// Public() lifts the admin-only guard: these routes authenticate devices themselves (DeviceRequestAuth).
@ApiTags("trust")
@Public()
@ApiUnauthorizedResponse({ type: ErrorBodyDto, description: "unauthorized: no valid device authorization (unknown, revoked, expired, for another request)" })
@Controller("api/v1")
export class TufController {
  constructor(
    private readonly tuf: TufRepositoryService,
    private readonly auth: DeviceRequestAuth,
  ) {}

  @Get("tuf/:file")
  @ApiOperation({ summary: "TUF metadata of the catalog: <N>.root.json, timestamp.json, snapshot.json, targets.json (device or admin)" })
  @ApiHeader(DEVICE_AUTH_HEADER)
  @ApiOkResponse({ description: "the signed metadata, byte for byte as stored" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such metadata file or root version" })
  async metadata(@Param("file") file: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!parseTufFileName(file)) throw new AppError(ErrorCode.ValidationFailed, "metadata file must be <N>.root.json, timestamp.json, snapshot.json or targets.json");
    await this.auth.check(req, { allowAdmin: true });
    const body = await this.tuf.metadataFile(file);
    if (body === null) throw new NotFoundError("TUF metadata", file);
    const bytes = Buffer.from(body);
    res.writeHead(200, { "content-type": "application/json", "content-length": String(bytes.length), "cache-control": "no-store" }).end(bytes);
  }

  @Get("artifacts/:target")
  @ApiOperation({ summary: "Bytes of a catalog target listed in the current targets metadata (device only); supports Range" })
  @ApiHeader(DEVICE_AUTH_HEADER)
  @ApiHeader({ name: "range", required: false, description: "one byte range, e.g. bytes=0-1023" })
  @ApiProduces("application/octet-stream")
  @ApiOkResponse({ description: "the whole file" })
  @ApiResponse({ status: 206, description: "the requested range" })
  @ApiResponse({ status: 416, type: ErrorBodyDto, description: "range not satisfiable" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: not a current target" })
  async artifact(@Param("target") target: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    // Validated before anything else, so a crafted name never reaches the file system (threat 8).
    const name = ZTargetPath.safeParse(target);
    if (!name.success) throw new AppError(ErrorCode.ValidationFailed, "target must be <name>-<version>.gguf");
    await this.auth.check(req, { allowAdmin: false });
    const found = await this.tuf.artifact(name.data);
    if (!found) throw new NotFoundError("target", name.data);
    const stat = await fs.stat(found.file).catch(() => null);
    if (!stat?.isFile() || stat.size !== found.length) throw new AppError(ErrorCode.Unavailable, `artifact ${name.data} is missing from the store`);
    const size = found.length;
    const headers: Record<string, string> = { "accept-ranges": "bytes", "content-type": "application/octet-stream", etag: `"${found.sha256}"`, "cache-control": "private, no-transform" };
    const range = parseByteRange(typeof req.headers.range === "string" ? req.headers.range : undefined, size);
    if (range === "unsatisfiable") {
      const body = JSON.stringify({ error: { code: ErrorCode.ValidationFailed, message: `range not satisfiable for ${size} bytes` } });
      res.writeHead(416, { ...headers, "content-type": "application/json", "content-range": `bytes */${size}`, "content-length": String(Buffer.byteLength(body)) }).end(body);
      return;
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
    headers["content-length"] = String(size === 0 ? 0 : end - start + 1);
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === "HEAD" || size === 0) {
      res.end();
      return;
    }
    await pipeline(createReadStream(found.file, { start, end }), res).catch((err: NodeJS.ErrnoException) => {
      // A client that hangs up mid-download is normal; anything else is logged by the HTTP logger via destroy.
      if (err.code !== "ERR_STREAM_PREMATURE_CLOSE") res.destroy(err);
    });
  }
}
