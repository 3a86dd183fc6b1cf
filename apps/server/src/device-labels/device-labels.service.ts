import { Injectable } from "@nestjs/common";
import type { TDeviceLabelsV1 } from "@fleet/protocol";
import { NotFoundError } from "../common/app-error.js";
import { DeviceLabelsRepository } from "./device-labels.repository.js";

/** Admin labels of a device; the `group` label is what a rollout can target. */
@Injectable()
export class DeviceLabelsService {
  constructor(private readonly repo: DeviceLabelsRepository) {}

  async replace(id: string, labels: TDeviceLabelsV1, actor = "admin"): Promise<{ id: string; labels: TDeviceLabelsV1 }> {
    if (!(await this.repo.replace(id, labels, actor))) throw new NotFoundError("device", id);
    return { id, labels };
  }
}
