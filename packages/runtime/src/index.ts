export { VirtualClock } from './clock';
export type { Clock, ClockListener } from './clock';
export { jsonRequestId, s3RequestId, s3HostId } from './request-id';
export { createAccessLog, silentAccessLog } from './access-log';
export type { AccessLog, AccessLogEntry, AccessLogOptions } from './access-log';
export { listen, listenService, readBody, BodyTooLargeError, PortInUseError } from './http';
export type { RunningServer } from './http';
export { adminRouter } from './admin';
export type { AdminOptions } from './admin';
