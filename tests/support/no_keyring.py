#!/usr/bin/env python3
"""Runs a command as Docker's default seccomp profile would: add_key, request_key and
keyctl fail with EPERM (the kernel keyring is unusable). Usage: no_keyring.py CMD ARGS…

A classic-BPF seccomp filter installed through prctl (ctypes; no extra package), then
exec. x86_64 and aarch64 syscall numbers."""
import ctypes
import os
import platform
import struct
import sys

NUMBERS = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}
add_key, request_key, keyctl = NUMBERS[platform.machine()]

BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_RET_K = 0x06
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO_EPERM = 0x00050000 | 1


def insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


program = b"".join([
    insn(BPF_LD_W_ABS, 0, 0, 0),                 # seccomp_data.nr
    insn(BPF_JEQ_K, 3, 0, add_key),
    insn(BPF_JEQ_K, 2, 0, request_key),
    insn(BPF_JEQ_K, 1, 0, keyctl),
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO_EPERM),
])
buf = ctypes.create_string_buffer(program)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


prog = SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
    sys.exit(f"prctl(NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
    sys.exit(f"prctl(SECCOMP): {os.strerror(ctypes.get_errno())}")
os.execvp(sys.argv[1], sys.argv[1:])
