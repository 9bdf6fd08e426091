export { createMallClient, idempotencyKey, type MallClient, type MallClientOptions, type Schemas, type paths, type components } from "./client";
export { ApiError, errorMessage, isApiError, KNOWN_ERROR_TYPES, type ErrorEnvelope, type Lang } from "./errors";
export { Session, type SessionState, type SessionUser, type Tokens } from "./session";
export { formatMoney } from "./money";
