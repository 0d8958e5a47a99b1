# syntax=docker/dockerfile:1
# Pinned to an exact LTS release so a rebuild does not pick up a new Node silently; bump deliberately.
ARG NODE_VERSION=24.11.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off here: `prepare` compiles src/, which is not copied yet. The npm cache is a build cache
# mount: reused between builds, never part of a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
# `npm run build` is tsc, then scripts/build-dashboard.mjs bundling the dashboard page from src/.
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; scripts off because `prepare` would run tsc, a dev dependency.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts
COPY --from=build /app/dist ./dist
# The image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
# node runs as PID 1 without a shell in between, so SIGTERM reaches the app's own drain handler; the
# app starts no child processes, so there is nothing for an init to reap.
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli/main.js", "serve"]
