# A minimal, correct multi-stage build: no finding above info.
FROM rust:1.95-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /src/target/release/app /app
USER 65532:65532
EXPOSE 8443
HEALTHCHECK --interval=10s CMD ["/app", "--health"]
ENTRYPOINT ["/app"]
