ARG GITHUB_TOKEN
FROM node:22 AS build
COPY .npmrc /root/.npmrc
RUN npm ci

FROM node:22-slim
ENV DB_PASSWORD=hunter2 NODE_ENV=production
COPY id_rsa /root/.ssh/id_rsa
COPY .env server.key /app/
COPY --from=build /app /app
USER 1000
CMD ["node", "/app/index.js"]
