// Vendor strings as systeminformation / lspci / drivers spell them -> one short word.
const KNOWN: [RegExp, string][] = [
  [/nvidia/i, "nvidia"],
  [/\bamd\b|advanced micro devices|\bati\b|radeon/i, "amd"],
  [/intel/i, "intel"],
  [/apple/i, "apple"],
  [/qualcomm|adreno/i, "qualcomm"],
];

/** "NVIDIA Corporation" -> "nvidia", "Advanced Micro Devices, Inc. [AMD/ATI]" -> "amd"; else the first word, slugged. */
export function gpuVendorSlug(vendor: string): string {
  for (const [re, slug] of KNOWN) if (re.test(vendor)) return slug;
  const word = vendor.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim().split(" ")[0];
  return word && word.length > 0 ? word : "unknown";
}
