# syntax=docker/dockerfile:1
# One image for every Bindery process: the six services, the gateway and the queue workers.
#   docker build -f docker/services.Dockerfile -t bindery/services:0.1.0 .
#   docker run bindery/services:0.1.0 catalog          # or gateway, users, …, catalog-worker, …
#   docker run --entrypoint node bindery/services:0.1.0 dist/bin/migrate.js
# Base images are pinned to an exact Node.js and Debian release; pin them to a digest as well in
# your registry mirror (docker/README.md, "Images").

FROM node:20.20.2-bookworm-slim AS build
ENV CI=true \
    npm_config_store_dir=/pnpm/store \
    npm_config_update_notifier=false
WORKDIR /repo
RUN npm install --global pnpm@10.34.9
# The lockfile alone is enough to download every package: this layer stays cached until it changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile --filter @bindery/services... \
 && pnpm --filter @bindery/services run build \
 && pnpm --filter @bindery/services deploy --offline --prod --legacy /out

FROM node:20.20.2-bookworm-slim AS runtime
# HOST: listen on the container's interfaces; WORKER_PORT: a fixed probe port for the workers;
# BINDERY_DATA_DIR: the only place a process might write, kept on a tmpfs (keys come from the
# environment in production, the database from DATABASE_URL).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    WORKER_PORT=9000 \
    BINDERY_DATA_DIR=/tmp/bindery
WORKDIR /app
# Code and dependencies belong to root and are read-only for the user the processes run as.
COPY --from=build --chown=root:root /out/node_modules ./node_modules
COPY --from=build --chown=root:root /repo/apps/services/package.json ./package.json
COPY --from=build --chown=root:root /repo/apps/services/dist ./dist
COPY --chown=root:root docker/healthcheck.mjs ./healthcheck.mjs
# 1000 is the `node` user of the base image, by number so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 4000 4101 4102 4103 4104 4105 4106 9000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# The Node.js flags are NODE_FLAGS in apps/services/src/processes.ts (heap limits for issue 9).
ENTRYPOINT ["node", "--enable-source-maps", "--max-old-space-size=384", "--max-semi-space-size=8", "dist/bin/service.js"]
CMD ["gateway"]
