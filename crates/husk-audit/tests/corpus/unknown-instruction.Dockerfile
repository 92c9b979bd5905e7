FROM scratch
COPPY app /app
USER 65532
ENTRYPOINT ["/app"]
