# The Dockerfile of the scratch-demo article, as published: the final stage copies the
# binary and the CA bundle without --from=build_phase, so from the build context.
# base step to build the executable
FROM golang:latest as build_phase
COPY ./ /project
WORKDIR /project
RUN CGO_ENABLED=0 go build -ldflags="-extldflags=-static" -o dist/demoexe .
RUN chmod +x ./dist/demoexe
# build the production final image
FROM scratch as PROD
LABEL "Maintainer"="Denis Rendler <[email protected]>" \
"App"="Scratch Demo"
# copy self-signed certs
COPY ./server.key /scratch-demo/server.key
COPY ./server.crt /scratch-demo/server.crt
# copy the executable from previous step
COPY /project//dist/demoexe /scratch-demo/demoexe
# necessary in order to enable https
COPY /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
WORKDIR /scratch-demo
ARG https_port=443
EXPOSE 443/tcp
USER 1000:1000
ENTRYPOINT ["/scratch-demo/demoexe"]
