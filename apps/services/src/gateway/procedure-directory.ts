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
    await this.startReading(namespaces);
  }

  /**
   * Starts reading the lists of `namespaces` that are missing or stale, as `refresh` does, and
   * returns the reads of the missing ones to wait for: none at all (no promise to await) when every
   * list is there, as it is for nearly every request the gateway answers.
   */
  startReading(namespaces: Iterable<string>): Promise<void> | undefined {
    // Looking up a ready instance of every service is the costly part: only for a list to read.
    let urls: Record<string, string> | undefined;
    const missing: Promise<void>[] = [];
    const now = Date.now();
    for (const namespace of namespaces) {
      const fetchedAt = this.fetchedAt.get(namespace);
      if (fetchedAt !== undefined && now - fetchedAt < this.refreshMs) continue;
      urls ??= this.services();
      const url = urls[namespace];
      if (!url) continue;
      let reading = this.reading.get(namespace);
      if (!reading) {
        reading = this.read(namespace, url).finally(() => this.reading.delete(namespace));
        this.reading.set(namespace, reading);
      }
      if (fetchedAt === undefined) missing.push(reading);
    }
    return missing.length === 0 ? undefined : Promise.all(missing).then(() => undefined);
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
