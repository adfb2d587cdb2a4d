import { DEFAULT_MAX_BODY_BYTES, type ProcedureInfo } from '@bindery/api';

/**
 * What the gateway knows of each service's procedures, read from the services' own `/procedures`
 * (so the gateway declares none): body limits now; timeouts and retries as they come. Refreshed in
 * the background; a service that cannot be asked leaves the defaults in force.
 */
export class ProcedureDirectory {
  private readonly procedures = new Map<string, ProcedureInfo>();
  private readonly fetchedAt = new Map<string, number>();

  constructor(
    private readonly services: () => Record<string, string>,
    /** @defaultValue 30_000 */
    private readonly refreshMs = 30_000,
  ) {}

  /** Registers a procedure the gateway serves itself. */
  add(procedure: ProcedureInfo): void {
    this.procedures.set(procedure.path, procedure);
  }

  /** Reads the services whose list is missing or stale; never throws. */
  async refresh(namespaces: Iterable<string> = Object.keys(this.services())): Promise<void> {
    const urls = this.services();
    await Promise.all(
      [...new Set(namespaces)].map(async (namespace) => {
        const url = urls[namespace];
        if (!url || Date.now() - (this.fetchedAt.get(namespace) ?? 0) < this.refreshMs) return;
        this.fetchedAt.set(namespace, Date.now());
        try {
          const response = await fetch(`${url}/procedures`, { signal: AbortSignal.timeout(2_000) });
          if (!response.ok) throw new Error(String(response.status));
          for (const procedure of (await response.json()) as ProcedureInfo[])
            this.procedures.set(procedure.path, procedure);
        } catch {
          this.fetchedAt.delete(namespace);
        }
      }),
    );
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
