/** Request header proxy.ts sets to the requested path + query, so a 401 deep in a page can return the user there. */
export const PATH_HEADER = "x-fleet-console-path";
