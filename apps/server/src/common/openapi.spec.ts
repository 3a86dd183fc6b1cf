import SwaggerParser from "@apidevtools/swagger-parser";
import type { OpenAPI } from "openapi-types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/test-server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

describe("OpenAPI document", () => {
  it("is valid for the version it declares (swagger-parser validates against the official 3.0 schema)", async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as OpenAPI.Document & { openapi: string };
    expect(doc.openapi).toBe("3.0.0");
    // validate() rejects with every schema violation listed in its message; dereferencing also checks every $ref
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
    // and no 3.1-only construct slipped through (the validator tolerates unknown keywords inside schemas)
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/"type":\[/);
    expect(text).not.toContain('"const":');
    // the nullable fields are still said to be nullable, the 3.0 way
    expect(text.match(/"nullable":true/g)?.length ?? 0).toBeGreaterThanOrEqual(17);
  });
});

describe("toOpenApi30", () => {
  it.each([
    ["nullable type", { type: ["string", "null"] }, { type: "string", nullable: true }],
    ["nullable $ref", { anyOf: [{ $ref: "#/components/schemas/X" }, { type: "null" }] }, { allOf: [{ $ref: "#/components/schemas/X" }], nullable: true }],
    ["nullable inline", { anyOf: [{ type: "integer", minimum: 0 }, { type: "null" }] }, { type: "integer", minimum: 0, nullable: true }],
    ["const", { type: "string", const: "ok" }, { type: "string", enum: ["ok"] }],
    ["exclusive bound", { type: "number", exclusiveMinimum: 0 }, { type: "number", minimum: 0, exclusiveMinimum: true }],
    ["two types", { type: ["string", "integer"] }, { anyOf: [{ type: "string" }, { type: "integer" }] }],
  ])("%s", async (_name, input, want) => {
    const { toOpenApi30 } = await import("./openapi-30.js");
    expect(toOpenApi30({ components: { schemas: { S: input } } })).toEqual({ components: { schemas: { S: want } } });
  });
});
