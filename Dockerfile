# The deployable image: built with the pinned toolchain, run as a non-root user on a slim base
# with exactly what "Running in production" (README) lists: the binary, hash.txt beside it, and
# the site folder. Configure it with the README's environment variables (keys, DATABASE_URL).
#
#   docker build -t clerk-starter .
#   docker run -p 3000:3000 --env-file .env -e DATABASE_URL=postgres://… clerk-starter

FROM rust:1.95-bookworm AS build
# Node runs wasm-opt (npm binaryen 132; Debian's binaryen breaks the bundle).
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The tools first, in their own layer: they take ~20 minutes and change only with Cargo.lock.
COPY scripts/setup-tools.sh scripts/
COPY Cargo.lock ./
RUN scripts/setup-tools.sh
COPY . .
RUN cargo leptos build --release --precompress --split

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/data && chown app /app/data
WORKDIR /app
COPY --from=build /src/target/release/server /src/target/release/hash.txt /app/
COPY --from=build /src/target/site /app/site
ENV LEPTOS_ENV=PROD \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_HASH_FILES=true \
    RUST_LOG=info
# The project name, as in Cargo.toml (see cargo-generate.toml).
#{% capture newline %}
#{% endcapture %}{% if false %}
ENV LEPTOS_OUTPUT_NAME=clerk-starter
#{% endif %}{{ newline | remove: "#" }}ENV LEPTOS_OUTPUT_NAME={{project-name}}
# SQLite (the default DATABASE_URL, sqlite://data/app.db) lives here unless you use Postgres.
VOLUME /app/data
USER app
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD curl -fsS http://127.0.0.1:3000/readyz || exit 1
CMD ["/app/server"]
