#!/bin/sh
# dashboard-web entrypoint: writes the nginx config from the template with the
# API's address (API_UPSTREAM, default dashboard-api:8080) and the container's
# DNS server, then runs nginx in the foreground.
set -eu

api="${API_UPSTREAM:-dashboard-api:8080}"
case "$api" in
  *[!A-Za-z0-9.:_-]*|'') echo "API_UPSTREAM must be host:port, got '$api'" >&2; exit 64 ;;
esac

resolver=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)
resolver="${resolver:-127.0.0.11}"
case "$resolver" in
  *:*) resolver="[$resolver]" ;;
esac

sed -e "s|@API_UPSTREAM@|$api|g" -e "s|@RESOLVER@|$resolver|g" \
  /etc/upbit-web/nginx.conf.template > /tmp/nginx.conf
exec nginx -e stderr -c /tmp/nginx.conf -g 'daemon off;'
