/**
 * nestjs-zod emits JSON Schema 2020-12 constructs (OpenAPI 3.1) inside a document that @nestjs/swagger declares as
 * OpenAPI 3.0.0, which validators and client generators then reject. This rewrites every schema object in place to its
 * 3.0 form, so the document is valid for the version it declares:
 * - `type: [T, "null"]` -> `type: T, nullable: true`
 * - `anyOf/oneOf: [S, {type: "null"}]` -> S with `nullable: true` (a lone $ref goes under `allOf`, since 3.0 ignores
 *   siblings of $ref)
 * - `const: v` -> `enum: [v]`
 * - numeric `exclusiveMinimum/Maximum: n` -> `minimum/maximum: n` + `exclusiveMinimum/Maximum: true`
 * - `examples: [..]` inside a schema -> `example` (the first one)
 */
export function toOpenApi30<T>(doc: T): T {
  visit(doc);
  return doc;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNullSchema = (v: unknown) => isObject(v) && v.type === "null" && Object.keys(v).length === 1;

function visit(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item);
    return;
  }
  if (!isObject(node)) return;
  for (const value of Object.values(node)) visit(value);
  rewriteSchema(node);
}

function rewriteSchema(s: Json): void {
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== "null");
    if (types.length < s.type.length) s.nullable = true;
    if (types.length === 1) s.type = types[0];
    else {
      // several non-null types: 3.0 can only say that with anyOf
      delete s.type;
      s.anyOf = types.map((t) => ({ type: t }));
    }
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const list = s[key];
    if (!Array.isArray(list) || !list.some(isNullSchema)) continue;
    const rest = list.filter((x) => !isNullSchema(x));
    s.nullable = true;
    if (rest.length === 1) {
      delete s[key];
      const only = rest[0] as Json;
      if ("$ref" in only) s.allOf = [only];
      else Object.assign(s, only, { nullable: true });
    } else {
      s[key] = rest;
    }
  }
  if ("const" in s) {
    s.enum = [s.const];
    delete s.const;
  }
  for (const [exclusive, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]] as const) {
    if (typeof s[exclusive] === "number") {
      s[bound] = s[exclusive];
      s[exclusive] = true;
    }
  }
  if (Array.isArray(s.examples) && (s.type !== undefined || s.properties !== undefined)) {
    if (s.examples.length > 0 && s.example === undefined) s.example = s.examples[0];
    delete s.examples;
  }
}
