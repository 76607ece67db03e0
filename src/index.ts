// The public API of the `twofold` package. Everything not exported here is internal.
export { loadConfig, ConfigError } from './config/load.js';
export type { TwofoldConfig, SigningAlgorithm, RunMode } from './config/schema.js';
export { createTwofold, StartupError, type Twofold, type TwofoldOptions } from './twofold.js';
export { buildApp, type BuildAppOptions } from './http/app.js';
export { twofoldRoutes, type TwofoldRoutesOptions } from './http/plugin.js';
export type { TwofoldFlows } from './flows/instance/bound-flows.js';
export type { RequestMeta } from './flows/shared/context.js';
export { startServer, type RunningServer } from './http/server.js';
export { TwofoldError, errorCatalog, type ErrorCode } from './errors.js';
export type { AccessTokenClaims, MfaTokenClaims } from './core/tokens/claims.js';
export type { SecurityEvent, SecurityEventSink, SecurityEventType } from './flows/shared/security-events.js';
export type { TwofoldMetrics } from './flows/instance/metrics.js';
