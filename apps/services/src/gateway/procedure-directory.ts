import { DEFAULT_MAX_BODY_BYTES, type ProcedureInfo } from '@bindery/api';

/**
 * What the gateway knows of each service's procedures, read from the services' own `/procedures`
 * (so the gateway declares none): body limits now; timeouts and retries as they come. Refreshed in
 * the background; a service that cannot be asked leaves the defaults in force.
 */
export class ProcedureDirectory {
  private readonly procedures = new Map<string, ProcedureInfo>();
  private readonly fetchedAt = new Map<string, number>();
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    /** A reachable instance of each service, by service. */
    private readonly services: () => Record<string, string>,
    /** @defaultValue 30_000 */
    private readonly refreshMs = 30_000,
  ) {}

  /** Registers a procedure the gateway serves itself. */
  add(procedure: ProcedureInfo): void {
    this.procedures.set(procedure.path, procedure);
  }

  /**
   * Reads the services whose list is missing (waiting for it) or stale (in the background, keeping
   * the list it has meanwhile); never throws.
   */
  async refresh(namespaces: Iterable<string> = Object.keys(this.services())): Promise<void> {
    const urls = this.services();
    const missing: Promise<void>[] = [];
    for (const namespace of new Set(namespaces)) {
      const url = urls[namespace];
      if (!url) continue;
      const fetchedAt = this.fetchedAt.get(namespace);
      if (
        (fetchedAt === undefined || Date.now() - fetchedAt >= this.refreshMs) &&
        !this.reading.has(namespace)
      ) {
        this.reading.set(
          namespace,
          this.read(namespace, url).finally(() => this.reading.delete(namespace)),
        );
      }
      const reading = this.reading.get(namespace);
      if (fetchedAt === undefined && reading) missing.push(reading);
    }
    await Promise.all(missing);
  }

  /** Reads one service's list; on failure the service counts as never read, and is asked again. */
  private async read(namespace: string, url: string): Promise<void> {
    try {
      const response = await fetch(`${url}/procedures`, { signal: AbortSignal.timeout(2_000) });
      if (!response.ok) throw new Error(String(response.status));
      for (const procedure of (await response.json()) as ProcedureInfo[])
        this.procedures.set(procedure.path, procedure);
      this.fetchedAt.set(namespace, Date.now());
    } catch {
      // Left unread: the next call asks again.
    }
  }

  get(path: string): ProcedureInfo | undefined {
    return this.procedures.get(path);
  }

  /** The body a request for `paths` may send: the most generous limit among them. */
  maxBodyBytes(paths: string[]): number {
    return Math.max(...paths.map((path) => this.get(path)?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  }

  all(): ProcedureInfo[] {
    return [...this.procedures.values()].sort((a, b) => a.path.localeCompare(b.path));
  }
}
