# Multi-stage: install once, compile TypeScript, keep production dependencies only, and
# ship them with the compiled code as the non-root `node` user. The same image runs the
# API (default command), the workers (`node dist/workers/src/main.js`) or pm2.
#
# Behind a TLS-inspecting proxy, put its CA bundle in the build context as `extra-ca.pem`
# (git-ignored): the build stages trust it for `npm ci`; the runtime stage never copies it.
# `npm run test:docker` builds and proves this image (tools/docker/prepare.sh, test/docker/).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
# `extra-ca.pe[m]`: a pattern, so the file is optional (the lockfile always matches).
COPY package.json package-lock.json extra-ca.pe[m] ./
RUN if [ -f extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/app/extra-ca.pem; fi \
 && npm ci --no-audit --no-fund

# Production dependencies: the same tree less the dev-only packages (no second download).
FROM deps AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY server/src ./server/src
COPY workers/src ./workers/src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000
WORKDIR /app
# Owned by root and read-only to the app: the process cannot rewrite its own code.
COPY package.json ecosystem.config.js ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server/src/main.js"]
