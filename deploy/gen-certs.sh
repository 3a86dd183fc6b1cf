#!/bin/sh
# One-shot (docker compose service "certs"): a local CA and the TLS certificates of NATS and the HTTPS proxy, created
# once in the "certs" volume and kept. Agents trust ca.crt (NODE_EXTRA_CA_CERTS=/path/to/ca.crt on each workstation).
# Names in the certificates: FLEET_HOSTNAME (the name agents and browsers use), localhost, 127.0.0.1, and the compose
# service names. Replace them with certificates from your own CA in production if you have one.
set -eu
cd /certs
if [ -s ca.crt ] && [ -s nats.crt ] && [ -s https.crt ]; then echo "certs: present"; exit 0; fi
command -v openssl >/dev/null || apk add --no-cache openssl >/dev/null
host="${FLEET_HOSTNAME:-localhost}"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=Fleetwise local CA" -keyout ca.key -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue() { # name, SANs
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" -keyout "$1.key" -out "$1.csr"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -out "$1.crt" -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
issue nats "DNS:$host,DNS:localhost,DNS:nats,IP:127.0.0.1"
issue https "DNS:$host,DNS:localhost,IP:127.0.0.1"
# readable by the NATS, Caddy and server containers (other users); the CA key stays private to this volume's root
chmod 0644 ca.crt nats.crt https.crt nats.key https.key
echo "certs: created for $host (CA: ca.crt)"
