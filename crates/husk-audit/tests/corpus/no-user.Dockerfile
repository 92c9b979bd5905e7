# hadolint is silent here (hadolint#328: DL3002 only looks at a USER that is written).
FROM debian:12-slim
COPY app /app
CMD ["/app"]
