/**
 * Dead letters: channel messages whose consumer group failed them `maxRetries` times. The
 * channel adapter (JetStream) — or, in the embedded shape, the outbox's in-process delivery —
 * moves such a message to the DEAD_LETTER channel with the headers below; the ops service
 * records it, lists it for operators and replays it on request.
 */
import { Page, s, schemaOf } from "../shared/schema";

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

export const DeadLetterSchema = schemaOf<DeadLetterDto>()(
  s.named(
    "DeadLetter",
    s.object({
      id: s.integer(),
      channel: s.string(),
      group: s.string(),
      eventId: s.string(),
      payload: s.any("the message as published (for outbox events, the event envelope)"),
      error: s.nullable(s.string()),
      attempts: s.integer(),
      status: s.enum(["NEW", "REPLAYED"] as const),
      firstFailedAt: s.dateTime(),
      lastFailedAt: s.dateTime(),
      replayedAt: s.nullable(s.dateTime()),
      replays: s.integer(),
    }),
  ),
);
export const DeadLetterPageSchema = schemaOf<Page<DeadLetterDto>>()(s.page(DeadLetterSchema));
