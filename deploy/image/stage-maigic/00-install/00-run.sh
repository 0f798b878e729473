#!/bin/bash -e
# pi-gen, on the build host: copy the project and the first-boot files into the image.
# pi-gen runs this from its own directory with ROOTFS_DIR set; the repository is four levels up.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${MAIGIC_SRC:-$(cd "${here}/../../../.." && pwd)}"
if [ ! -f "${src}/deploy/install.sh" ]; then
	echo "maigic stage: ${src} is not a mAIgic hub checkout (set MAIGIC_SRC)" >&2
	exit 1
fi

install -d -m 0755 "${ROOTFS_DIR}/opt/maigic/src"
# the source tree without VCS data, virtualenvs or caches
tar -C "${src}" --exclude=.git --exclude=.venv --exclude=__pycache__ --exclude='*.pyc' \
	--exclude=.mypy_cache --exclude=.ruff_cache --exclude=.pytest_cache -cf - . \
	| tar -C "${ROOTFS_DIR}/opt/maigic/src" -xf -

install -D -m 0755 files/maigic-firstboot.sh "${ROOTFS_DIR}/usr/local/sbin/maigic-firstboot"
install -D -m 0644 files/maigic-firstboot.service \
	"${ROOTFS_DIR}/etc/systemd/system/maigic-firstboot.service"
install -D -m 0644 files/maigic-setup.txt.example \
	"${ROOTFS_DIR}/boot/firmware/maigic-setup.txt.example"
