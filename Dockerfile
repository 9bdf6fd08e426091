# Mall service node image. One image for every node; SERVICES picks what a container runs.
#   docker build -t mall .
#   docker run -e SERVICES=api -e TRANSPORTER=nats://… mall
# With no environment at all it is the embedded single-process shop (SQLite under /app/data);
# keep its data with a named volume: docker run -p 3000:3000 -v mall-data:/app/data mall

# ---- build: install everything, compile TypeScript, then drop dev dependencies ---------------
FROM node:24-slim AS build
WORKDIR /app
# sqlite3 falls back to compiling from source when no prebuilt binary can be downloaded
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && node -e "require('sqlite3'); require('@node-rs/argon2')"

# ---- runtime ---------------------------------------------------------------------------------
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
# dist/ runs the nodes; the TypeScript sources stay so `npm run migrate` / `npm run repl` work
COPY --from=build --chown=root:root /app /app
# owned by the node user: a fresh named volume mounted on /app/data or /app/data/uploads starts as
# a copy of this directory, so the node can write uploads (and SQLite) there
RUN mkdir -p /app/data/uploads && chown -R node:node /app/data
USER node
# 3000: REST gateway (SERVICES=api), 3030: Prometheus metrics of every node
EXPOSE 3000 3030
# no VOLUME: it would give every container (gateway, users… and each `docker compose run`) an
# anonymous volume nobody cleans up. Mount a named volume where data must outlive the container.
# node as PID 1 receives SIGTERM directly; the broker drains in-flight requests before exiting
CMD ["node", "dist/bin/start.js"]
