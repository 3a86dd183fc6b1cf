export { formatBytes } from "./formatBytes";
export { formatCount } from "./formatCount";
export { formatDateTime } from "./formatDateTime";
export { formatMeanSd } from "./formatMeanSd";
export { formatMs } from "./formatMs";
export { formatRelativeTime } from "./formatRelativeTime";
export { shortSha } from "./shortSha";
