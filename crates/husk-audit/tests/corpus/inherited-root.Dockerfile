# The final stage inherits USER root from its base stage (hadolint#359).
FROM alpine:3.20 AS base
USER root
RUN apk add --no-cache ca-certificates

FROM base
COPY app /app
ENTRYPOINT ["/app"]
