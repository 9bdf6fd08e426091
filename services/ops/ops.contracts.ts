/**
 * Dead letters: channel messages whose consumer group failed them `maxRetries` times. The
 * channel adapter (JetStream) — or, in the embedded shape, the outbox's in-process delivery —
 * moves such a message to the DEAD_LETTER channel with the headers below; the ops service
 * records it, lists it for operators and replays it on request.
 */

/** The dead-letter channel (channels middleware `deadLettering.queueName`, without the namespace prefix). */
export const DEAD_LETTER_CHANNEL = "DEAD_LETTER";

/** Headers of a dead-lettered message. The first two are @moleculer/channels' own. */
export const DeadLetterHeaders = {
  ORIGINAL_CHANNEL: "x-original-channel",
  ORIGINAL_GROUP: "x-original-group",
  EVENT_ID: "x-event-id",
  ERROR: "x-dead-error",
  ATTEMPTS: "x-dead-attempts",
} as const;

export type DeadLetterStatus = "NEW" | "REPLAYED";

export interface DeadLetterDto {
  id: number;
  channel: string;
  group: string;
  eventId: string;
  /** the message as published (for outbox events, the event envelope) */
  payload: unknown;
  /** the consumer's last error, when the adapter passed it on */
  error: string | null;
  /** deliveries before the message was given up on (the last time it died) */
  attempts: number;
  status: DeadLetterStatus;
  firstFailedAt: string;
  lastFailedAt: string;
  replayedAt: string | null;
  replays: number;
}

export interface ListDeadLettersParams {
  channel?: string;
  status?: DeadLetterStatus;
  page: number;
  pageSize: number;
}
