"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** Re-render the server component now and then so online/offline and "last seen" stay current; paused in hidden tabs. */
export function AutoRefresh({ everyMs }: { everyMs: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, everyMs);
    return () => clearInterval(timer);
  }, [router, everyMs]);
  return null;
}
