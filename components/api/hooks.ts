"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./client";
import { ApiError } from "./errors";
import { queryKeys } from "./keys";
import type { AuditFilter, MessageFilter, RetentionChange, StructuredCloudEvent } from "./types";

// Query and mutation hooks over the API client. Polling intervals are for an operator screen:
// lists refresh on their own, details do not.

const LIST_REFRESH_MS = 5_000;
/** Rows per keyset page of the history table. */
export const HISTORY_PAGE_SIZE = 50;

export function useTopics() {
  return useQuery({
    queryKey: queryKeys.topics.all,
    queryFn: ({ signal }) => api.listTopics(signal).then((r) => r.topics),
    refetchInterval: LIST_REFRESH_MS,
  });
}

export function useCreateTopic() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: api.createTopic,
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.topics.all }),
  });
}

export function useDeleteTopic() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: api.deleteTopic,
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.topics.all }),
  });
}

export function useDemo() {
  return useQuery({
    queryKey: queryKeys.demo,
    queryFn: ({ signal }) => api.demoStatus(signal),
    refetchInterval: (query) => (query.state.data?.running ? 3_000 : false),
  });
}

export function useSetDemo() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (running: boolean) => api.setDemo(running),
    onSuccess: (status) => {
      client.setQueryData(queryKeys.demo, status);
      client.invalidateQueries({ queryKey: queryKeys.topics.all });
    },
  });
}

export function useSetFailing(topic: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (failing: boolean) => api.setFailing(topic, failing),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.topics.all }),
  });
}

export function usePublish(topic: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (event: StructuredCloudEvent) => api.publish(topic, event),
    onSettled: () => {
      client.invalidateQueries({ queryKey: queryKeys.topics.all });
      client.invalidateQueries({ queryKey: queryKeys.ordering.all });
    },
  });
}

/**
 * Keyset-paginated history; each page's `nextCursor` fetches the next one, `null` ends the list. The rows stay
 * as loaded while the reader reads (no refetch on focus or reconnect, never stale by time): new rows are only
 * announced (useNewerCount) until the reader asks for them (refetching the query from its first page). An empty
 * list has nothing to keep still: it is asked again every few seconds until rows arrive.
 */
export function useMessageHistory(filter: MessageFilter) {
  return useInfiniteQuery({
    queryKey: queryKeys.messages.browse(filter),
    queryFn: ({ pageParam, signal }) => api.browseMessages(filter, pageParam, HISTORY_PAGE_SIZE, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: (q) => {
      const pages = q.state.data?.pages;
      return pages?.length === 1 && pages[0]!.items.length === 0 && pages[0]!.nextCursor === null ? NEWER_POLL_MS : false;
    },
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });
}

/** Most new rows counted for the "N new — show" bar; more show as "100+". */
export const NEWER_COUNT_LIMIT = 100;
const NEWER_POLL_MS = 4_000;

/**
 * How many rows of the view `filter` were recorded after `after` (its first page's newerCursor), polled while
 * the page is visible; null while unknown or when there is no cursor.
 */
export function useNewerCount(filter: MessageFilter, after: string | null) {
  return useQuery({
    queryKey: queryKeys.messages.newer(filter, after),
    queryFn: ({ signal }) => api.newerMessages(filter, after!, NEWER_COUNT_LIMIT, signal).then((p) => p.items.length + (p.nextCursor ? 1 : 0)),
    enabled: after !== null,
    refetchInterval: NEWER_POLL_MS,
    refetchIntervalInBackground: false,
  });
}

/** A topic's activity over a range, refreshed every 10 s while the range is open-ended (the charts). */
export function useTopicSeries(topic: string, from: string, to: string | undefined) {
  return useQuery({
    queryKey: queryKeys.topics.series(topic, from, to),
    queryFn: ({ signal }) => api.topicSeries(topic, { from, to }, signal),
    refetchInterval: to === undefined ? 10_000 : false,
    placeholderData: (previous) => previous,
  });
}

/** PATCH /api/topics/{topic}: the topic's retention (admin). */
export function useSetRetention(topic: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (retention: RetentionChange) => api.setRetention(topic, retention),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.topics.all }),
  });
}

/** A message that is not recorded yet (a replay just made, say) answers 404 for a moment: retried a few times. */
export function useMessage(id: string) {
  return useQuery({
    queryKey: queryKeys.messages.detail(id),
    queryFn: ({ signal }) => api.getMessage(id, signal),
    retry: (failures, error) => (error instanceof ApiError && error.status === 404 ? failures < 4 : false),
    retryDelay: 750,
  });
}

export function useReplay(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { topic?: string; keepId?: boolean }) => api.replay(id, input),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: queryKeys.messages.all });
      client.invalidateQueries({ queryKey: queryKeys.topics.all });
    },
  });
}

/** Rows per page of a stall entry's messages ("show all" on the ordering board). */
export const STALLED_MESSAGES_PAGE_SIZE = 100;

/** The ordering board's list: open stalled keys with counts and their first waiting messages (bounded). */
export function useStalled(topic: string | null) {
  return useQuery({
    queryKey: queryKeys.ordering.list(topic),
    queryFn: ({ signal }) => api.listStalled(topic ?? undefined, signal),
    refetchInterval: LIST_REFRESH_MS,
  });
}

/** Every message of one stall entry, keyset-paginated; fetched only while `enabled` (the list is open). */
export function useStalledMessages(stallId: string, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: queryKeys.ordering.messages(stallId),
    queryFn: ({ pageParam, signal }) => api.stalledMessages(stallId, pageParam, STALLED_MESSAGES_PAGE_SIZE, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled,
  });
}

export function useResumeStall() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: api.resumeStall,
    onSettled: () => {
      client.invalidateQueries({ queryKey: queryKeys.ordering.all });
      client.invalidateQueries({ queryKey: queryKeys.topics.all });
      client.invalidateQueries({ queryKey: queryKeys.messages.all });
    },
  });
}

export function useDiscardStall() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: api.discardStall,
    onSettled: () => {
      client.invalidateQueries({ queryKey: queryKeys.ordering.all });
      client.invalidateQueries({ queryKey: queryKeys.topics.all });
    },
  });
}

export function useSubscriptions(topic: string | null) {
  return useQuery({
    queryKey: queryKeys.subscriptions.list(topic),
    queryFn: ({ signal }) => api.listSubscriptions(topic ?? undefined, signal).then((r) => r.subscriptions),
    refetchInterval: LIST_REFRESH_MS,
  });
}

/** Who is signed in (role, how, until when); fetched once per page load. */
export function useSession() {
  return useQuery({
    queryKey: queryKeys.session,
    queryFn: ({ signal }) => api.session(signal),
    staleTime: 60_000,
  });
}

/**
 * Whether the signed-in caller may take admin actions. False while unknown, so admin controls appear only
 * once the server said "admin" (the server refuses viewers anyway: this only spares them dead buttons).
 */
export function useCanAdmin(): boolean {
  return useSession().data?.role === "admin";
}

/** Keyset-paginated audit log, newest first. */
export function useAuditLog(filter: AuditFilter) {
  return useInfiniteQuery({
    queryKey: queryKeys.audit.browse(filter),
    queryFn: ({ pageParam, signal }) => api.audit(filter, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: LIST_REFRESH_MS,
  });
}
