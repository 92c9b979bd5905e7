# issue 14: BuildKit's git sources are fetched, not local files (no "use COPY").
FROM alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS src
ARG REF=v1.2.3
ADD --keep-git-dir=true "https://github.com/org/repo.git#${REF}" /src
ADD https://github.com/org/tools.git#main /tools
ADD git@github.com:org/private.git /private

FROM scratch
COPY --from=src /src/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
