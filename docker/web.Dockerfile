# syntax=docker/dockerfile:1
# The operator console (apps/web): Next.js standalone output on port 3000.
#   docker build -f docker/web.Dockerfile -t bindery/web:0.1.0 .
# Needs `output: 'standalone'` and `outputFileTracingRoot` set to the repository root in
# apps/web/next.config.*, and a GET /healthz route that answers without a session.

FROM node:20.20.2-bookworm-slim AS build
ENV CI=true \
    NEXT_TELEMETRY_DISABLED=1 \
    npm_config_store_dir=/pnpm/store \
    npm_config_update_notifier=false
WORKDIR /repo
RUN npm install --global pnpm@10.34.9
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile --filter @bindery/web... \
 && pnpm --filter @bindery/web... run build \
 && mkdir -p apps/web/public

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    HOSTNAME=0.0.0.0 \
    PORT=3000 \
    WEB_PORT=3000
WORKDIR /app
# The standalone output mirrors the repository (apps/web/server.js) with only the traced files.
COPY --from=build --chown=root:root /repo/apps/web/.next/standalone ./
COPY --from=build --chown=root:root /repo/apps/web/.next/static ./apps/web/.next/static
COPY --from=build --chown=root:root /repo/apps/web/public ./apps/web/public
COPY --chown=root:root docker/healthcheck.mjs ./healthcheck.mjs
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "apps/web/server.js"]
