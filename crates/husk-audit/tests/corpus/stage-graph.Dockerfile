# A stage-name typo in --from (BuildKit pulls an image called "buidl"), a duplicate and
# a reserved stage name, an unnamed stage nothing uses, and build-only hygiene.
FROM golang:1.23 AS build
RUN chmod 777 /tmp/out
FROM golang:1.23 AS Build
FROM alpine:3.20 AS context
FROM alpine:3.20
RUN true
FROM scratch
COPY --from=buidl /app /app
USER 65532:65532
ENTRYPOINT ["/app"]
