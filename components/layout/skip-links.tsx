import { SignedInOnly } from "./signed-in-only";

// Skip links: the first Tab stops of every page, visible only when focused. They jump over the header to the
// page's content, or to the main menu (not on the login page, which has none).

const skipLink =
  "sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-surface focus:px-3 focus:py-1 focus:shadow";

export function SkipLinks() {
  return (
    <>
      <a href="#main" className={skipLink}>
        Skip to content
      </a>
      <SignedInOnly>
        <a href="#main-nav" className={skipLink}>
          Skip to main menu
        </a>
      </SignedInOnly>
    </>
  );
}
