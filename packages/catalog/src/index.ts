export * from "./kvCacheBytes.js";
export * from "./computeBufferBytes.js";
export * from "./planMemoryFit.js";
export * from "./chooseThreads.js";
export * from "./formatGiB.js";
