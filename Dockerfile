# Build a static birjob, then run it on a slim Debian with CA certificates.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/birjob ./cmd/birjob

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/birjob birjob \
    && mkdir -p /var/lib/birjob && chown birjob /var/lib/birjob
COPY --from=build /out/birjob /usr/local/bin/birjob
USER birjob
WORKDIR /var/lib/birjob
ENV BIRJOB_ADDR=:8080 BIRJOB_DATA_DIR=/var/lib/birjob
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["birjob", "healthcheck"]
ENTRYPOINT ["birjob"]
