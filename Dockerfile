# syntax=docker/dockerfile:1
# Build: one self-contained executable (migrations, htmx and CSS embedded).
FROM oven/bun:1.4 AS build
WORKDIR /src
COPY package.json bun.lock ./
# The build needs only the runtime dependencies (bun's bundler does the rest); none of them has an
# install script that matters, so scripts stay off.
RUN bun install --frozen-lockfile --ignore-scripts --production
COPY . .
RUN bun run build

# Run: a small glibc image with only the binary and CA certificates.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin gateway \
 && mkdir -p /data && chown gateway:gateway /data
COPY --from=build /src/dist/mcp-gateway /usr/local/bin/mcp-gateway
USER gateway
# The gateway raises Bun's outbound request limit itself (src/outbound-limit.ts).
ENV HOST=0.0.0.0 PORT=8787 DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
ENTRYPOINT ["/usr/local/bin/mcp-gateway"]
CMD ["serve"]
