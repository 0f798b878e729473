#!/bin/bash -e
# pi-gen, inside the image (arm64 chroot): run the installer. No systemd runs in a chroot, so
# the service is enabled, not started; it starts on first boot after maigic-firstboot.
/opt/maigic/src/deploy/install.sh --source /opt/maigic/src --no-start
systemctl enable maigic-firstboot.service
