import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';

/** What a browser downloads to show a route the first time: every script it loads, gzipped. */
export interface RouteSize {
  route: string;
  files: number;
  bytes: number;
  gzipBytes: number;
}

/**
 * First-load JavaScript per page route of a `next build`, as `next build` printed it before
 * Next.js 16 stopped doing so: the scripts shared by every route (`rootMainFiles`) plus the
 * client chunks of the route's layouts and page (`entryJSFiles` of its client reference manifest),
 * each counted once and measured gzipped.
 */
export function firstLoadJs(nextDir: string): RouteSize[] {
  const read = (path: string) => readFileSync(join(nextDir, path));
  const buildManifest = JSON.parse(read('build-manifest.json').toString()) as { rootMainFiles: string[] };
  const routes = JSON.parse(read('app-path-routes-manifest.json').toString()) as Record<string, string>;
  const gzipped = new Map<string, { bytes: number; gzipBytes: number }>();
  const sizeOf = (file: string) => {
    let size = gzipped.get(file);
    if (!size) {
      const content = read(file);
      size = { bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
      gzipped.set(file, size);
    }
    return size;
  };
  return Object.entries(routes)
    .filter(([entry]) => entry.endsWith('/page'))
    .map(([entry, route]) => {
      const context: { globalThis?: unknown; __RSC_MANIFEST?: Record<string, unknown> } = {};
      context.globalThis = context;
      runInNewContext(read(`server/app${entry}_client-reference-manifest.js`).toString(), context);
      const manifest = context.__RSC_MANIFEST?.[entry] as { entryJSFiles: Record<string, string[]> };
      const files = new Set([...buildManifest.rootMainFiles, ...Object.values(manifest.entryJSFiles).flat()]);
      const total = [...files]
        .map(sizeOf)
        .reduce(
          (sum, size) => ({ bytes: sum.bytes + size.bytes, gzipBytes: sum.gzipBytes + size.gzipBytes }),
          { bytes: 0, gzipBytes: 0 },
        );
      return { route, files: files.size, ...total };
    })
    .sort((a, b) => a.route.localeCompare(b.route));
}

/** The table the README records. */
export function routeTable(sizes: RouteSize[]): string {
  const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
  return [
    '| route | first-load JS (gzip) | uncompressed | scripts |',
    '| --- | ---: | ---: | ---: |',
    ...sizes.map(
      (size) => `| \`${size.route}\` | ${kB(size.gzipBytes)} | ${kB(size.bytes)} | ${size.files} |`,
    ),
  ].join('\n');
}
