# Nginx for the compose stack: Debian's nginx package on BASE_IMAGE
# (default debian:bookworm-slim; scripts/docker-images passes its local base
# on a host without an image registry). The same Nginx 1.22 as the hosts of
# scripts/cluster, so one deploy/nginx serves both. The configuration is
# not baked in: compose mounts deploy/nginx at /etc/nginx/s3gw, so adding a
# gateway is an edit and `nginx -s reload` (docs/operations.md).
#
#   docker build -f docker/nginx.Dockerfile -t s3gw-nginx:local docker
#
# Classic builder instructions only, like docker/Dockerfile.

ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# Debian's package leaves its own site enabled; the stack never reads
# /etc/nginx/nginx.conf, but drop the default site all the same.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && nginx -v
EXPOSE 8080 8081
STOPSIGNAL SIGQUIT
CMD ["nginx", "-c", "/etc/nginx/s3gw/docker/nginx.conf", "-g", "daemon off;"]
