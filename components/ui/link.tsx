import NextLink from "next/link";
import type { ComponentProps } from "react";

/**
 * The app's link: next/link with prefetching off unless asked for. Every page of the dashboard is rendered per
 * request (the layout reads the theme cookie, the proxy stamps a CSP nonce), and Next prefetches such a page
 * only up to its first dynamic part and then aborts the request: each link in view cost a request that ends as
 * "canceled" in the network log (82 in 10 s on a busy topic's live tail, one per message link). The pages load
 * their data from the API when they open anyway, so a click costs one small RSC request instead.
 */
export function Link({ prefetch = false, ...props }: ComponentProps<typeof NextLink>) {
  return <NextLink prefetch={prefetch} {...props} />;
}
