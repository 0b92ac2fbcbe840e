#!/bin/sh
# The instructor's and TAs' servers (and the formgrader service) share one course folder
# through the formgrade group: what they create there stays group-writable (others cannot enter the course folder: it is mode 2770), and
# what they hand to students (releases, feedback) stays readable.
umask 0002
exec "$(dirname "$0")/.venv/bin/jupyterhub-singleuser" "$@"
