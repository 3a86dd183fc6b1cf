import { GgufFileType } from "node-llama-cpp";

/** general.file_type (a llama_ftype number) -> short label such as "Q4_K_M" or "F16"; null when absent/unknown. */
export function quantizationLabel(fileType: unknown): string | null {
  if (typeof fileType !== "number") return null;
  const name = (GgufFileType as Record<number, string>)[fileType];
  return name ? name.replace(/^MOSTLY_/, "") : null;
}
