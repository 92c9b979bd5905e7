ARG TAG
FROM --platform=linux/amd64 alpine:${TAG} as Base
MAINTAINER someone
ENV GREETING hello
WORKDIR app
run apk add \

    curl
EXPOSE 80/TCP 8080:80
COPY app /$APP_DIR/
FROM --platform=$TARGETPLATFORM node:${NODE} AS runtime
CMD ["a"]
CMD node server.js
