# syntax=docker/dockerfile:1
#
# A dacnet committee node. Build:  docker build -t dacnet .
# Run:    docker run --rm -v dacnet-home:/var/lib/dacnet dacnet init --password-file /run/secrets/keystore-password
#         docker run -d -v dacnet-home:/var/lib/dacnet -p 5381:5381 -p 127.0.0.1:5380:5380 dacnet
# Every config key is also a DACNET_* environment variable (docs/OPERATORS.md §3); containers are in §10.

ARG NODE_IMAGE=node:24-slim

# The package built from TypeScript into dist/ (npm run build), with the dev dependencies it needs.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Production dependencies only, installed (and their native modules built) for the runtime image's platform.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    # The node directory: `dacnet init` writes it, `dacnet node` reads DACNET_HOME/config.json.
    DACNET_HOME=/var/lib/dacnet \
    # Logs as JSON lines for the container runtime's log collector.
    DACNET_LOG_JSON=true \
    # The API must listen beyond the container's loopback to be published at all; publish it on the host's
    # loopback (-p 127.0.0.1:5380:5380) or a private network, and list the names clients use in
    # DACNET_API_ALLOWED_HOSTS.
    DACNET_API_HOST=0.0.0.0 \
    # V8's young generation capped at 4 MiB semi-spaces: about 60 MiB less resident memory per node, at no
    # measurable CPU cost (OPERATORS.md §7). The old generation's 64 MiB start is on the ENTRYPOINT below:
    # NODE_OPTIONS refuses that option.
    NODE_OPTIONS=--max-semi-space-size=4 \
    # glibc's allocator at one arena instead of up to eight a core, and with fixed thresholds: memory a store frees
    # on one thread is reused by the others, and blocks from 4 MiB up go back to the kernel, so a node's peak while
    # storing stays near three times its share (OPERATORS.md §7).
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_THRESHOLD_=4194304 \
    MALLOC_TRIM_THRESHOLD_=33554432
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
RUN ln -s /app/dist/cli/bin.js /usr/local/bin/dacnet \
    && mkdir -p /var/lib/dacnet \
    && chown node:node /var/lib/dacnet \
    && chmod 700 /var/lib/dacnet
USER node
VOLUME ["/var/lib/dacnet"]
# 5381 libp2p TCP (public), 5382 libp2p WebSockets (optional), 5380 HTTP API and /metrics (private).
EXPOSE 5381 5382 5380
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD node -e "fetch('http://127.0.0.1:${DACNET_API_PORT:-5380}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# SIGTERM stops the node cleanly (stores under way finish, the database closes); allow it up to a minute
# (docker stop -t 60, compose stop_grace_period).
STOPSIGNAL SIGTERM
# The old generation may reach 64 MiB before V8 collects it (OPERATORS.md §7): a node serving a flood of requests
# otherwise runs a full collection every few hundred milliseconds.
ENTRYPOINT ["node", "--initial-old-space-size=64", "/app/dist/cli/bin.js"]
CMD ["node"]
