# escape=`
ARG TAG=latest
FROM mcr.microsoft.com/powershell:${TAG}
RUN <<EOT
apt-get install -y python3
EOT
RUN echo one `
    && echo two
USER ContainerUser
