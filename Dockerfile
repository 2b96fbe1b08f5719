# Sieve's container image: a static binary on a distroless base, run as a
# non-root user. The model is a mounted file (-m /models/FILE) or is pulled
# from the Hugging Face hub at start (-m hf://ORG/NAME/FILE, or the default
# model without -m) into $SIEVE_HOME, a volume.
#
#   docker build -t sieve .
#   docker run --rm -p 8000:8000 -v "$PWD/../shared/models:/models:ro" sieve \
#     serve -m /models/stories260K.gguf --host 0.0.0.0 --kv-cache-size 64MiB
#   docker run --rm -p 8000:8000 -v sieve-home:/var/lib/sieve sieve

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH
# CGO_ENABLED=0: a static binary that needs no libc in the runtime image.
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
	go build -trimpath -ldflags='-s -w' -o /out/sieve ./cmd/sieve \
	&& mkdir -p /out/models /out/home

# distroless/static carries CA certificates, tzdata and a "nonroot" user
# (65532), and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sieve /usr/local/bin/sieve
# Writable homes for the non-root user: $SIEVE_HOME caches pulled models.
COPY --from=build --chown=65532:65532 /out/home /var/lib/sieve
COPY --from=build --chown=65532:65532 /out/models /models
ENV SIEVE_HOME=/var/lib/sieve
VOLUME ["/var/lib/sieve"]
USER 65532:65532
EXPOSE 8000
# The binary probes itself: distroless has no curl. The start period covers
# loading a large model; /health answers 503 until the model is ready and
# again once SIGTERM starts the drain.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10m --retries=3 \
	CMD ["/usr/local/bin/sieve", "health", "--url", "http://127.0.0.1:8000/health"]
# SIGTERM drains: running requests get --shutdown-timeout to finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sieve"]
# Without -m, serve pulls its default model (and falls back to the built-in
# demo where the hub cannot be reached).
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
