FROM ubuntu
RUN apt-get update && apt-get upgrade -y
RUN apt-get install -y curl gcc make \
    # build deps
    && make -C /src
RUN curl -fsSL https://get.example.com/install.sh | bash
RUN sudo chmod -R 777 /var/www
ADD https://example.com/tool.tar.gz /opt/
ADD config.yml /etc/app/config.yml
RUN apk add git
COPY --chmod=777 start.sh /start.sh
USER www-data
CMD /start.sh
