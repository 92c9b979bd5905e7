# Everything that makes a FROM-scratch image fail to start or stay unhealthy.
FROM scratch
COPY app /app
USER app
EXPOSE 443
HEALTHCHECK CMD curl -f http://localhost/ || exit 1
ENTRYPOINT /app --serve
