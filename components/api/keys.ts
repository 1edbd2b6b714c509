import type { AuditFilter, MessageFilter } from "./types";

// Shared TanStack Query keys. Every query and every invalidation goes through these, so a mutation
// invalidates exactly what it changed. Prefix keys (`all`) invalidate a whole family.
export const queryKeys = {
  topics: {
    all: ["topics"] as const,
    /** Not under ["topics"]: invalidating the topic list must not refetch every chart. */
    series: (topic: string, from: string, to: string | undefined) => ["series", topic, from, to] as const,
  },
  messages: {
    all: ["messages"] as const,
    browse: (filter: MessageFilter) => ["messages", "browse", filter] as const,
    newer: (filter: MessageFilter, after: string | null) => ["messages", "newer", filter, after] as const,
    detail: (id: string) => ["messages", "detail", id] as const,
  },
  ordering: {
    all: ["ordering"] as const,
    list: (topic: string | null) => ["ordering", "list", topic] as const,
    messages: (stallId: string) => ["ordering", "messages", stallId] as const,
  },
  demo: ["demo"] as const,
  session: ["session"] as const,
  audit: {
    all: ["audit"] as const,
    browse: (filter: AuditFilter) => ["audit", "browse", filter] as const,
  },
  subscriptions: {
    all: ["subscriptions"] as const,
    list: (topic: string | null) => ["subscriptions", "list", topic] as const,
  },
};
