const GIB = 1024 ** 3;

/** "4.57 GiB": the unit admins see in reasons and doctor output. */
export function formatGiB(bytes: number): string {
  return `${(bytes / GIB).toFixed(2)} GiB`;
}
