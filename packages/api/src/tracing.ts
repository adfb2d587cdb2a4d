let enabled = false;

/**
 * Called by `startTelemetry` (@bindery/runtime) once an OpenTelemetry SDK runs in this process.
 * Until then Bindery's own spans are not made at all rather than made as no-ops.
 */
export function enableTracing(): void {
  enabled = true;
}

/** Whether an OpenTelemetry SDK runs in this process. */
export function tracingEnabled(): boolean {
  return enabled;
}
