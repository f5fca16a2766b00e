FROM debian:12
FROOM scratch
USER root
