FROM debian:12
RUN <<EOF
apt-get install -y curl
