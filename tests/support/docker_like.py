"""Run a command the way Docker runs a container's process, where Docker itself is absent.

`python -m tests.support.docker_like [--caps CHOWN,SETUID,...] [--user UID] [--nnp] -- ARGV...` execs
ARGV after:

- switching to UID (its own group, no supplementary groups) when given (the container's `user`);
- dropping every capability not listed from the bounding set (compose's `cap_drop: [ALL]` plus
  `cap_add`), so a root process keeps only those (needs root; without `--caps` nothing is dropped);
- setting no_new_privs with `--nnp` (compose's `security_opt: [no-new-privileges:true]`);
- loading a seccomp filter with the namespace and mount rules of Docker's default profile
  (moby `profiles/seccomp/default.json`, for a process without CAP_SYS_ADMIN): `unshare`,
  `setns`, `mount`, `umount2`, `pivot_root` and the new mount API answer EPERM, `clone` with
  any CLONE_NEW* flag answers EPERM, and `clone3` answers ENOSYS (so libc falls back to
  `clone`). Only these rules are reproduced: they are the ones that decide whether bubblewrap
  can start. x86-64 and aarch64 only (`supported()` says whether this machine is one).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
#: CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
CLONE_NAMESPACES = 0x7E020000

#: machine → (audit arch, clone, clone3, syscalls that answer EPERM)
ARCHES = {
    "x86_64": (0xC000003E, 56, 435, (272, 308, 165, 166, 155, 428, 429, 430, 431, 432, 433, 442)),
    "aarch64": (0xC00000B7, 220, 435, (97, 268, 40, 39, 41, 428, 429, 430, 431, 432, 433, 442)),
}
CAPS = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
]


def supported() -> bool:
    """Whether the filter can be built for this machine."""
    return sys.platform == "linux" and platform.machine() in ARCHES


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def filter_program() -> bytes:
    """The classic BPF program of the rules above, for this machine's architecture."""
    arch, clone, clone3, denied = ARCHES[platform.machine()]
    ld_w, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    # (code, jump-if-true label, jump-if-false label, k); labels are resolved to offsets below.
    code: list[tuple[int, str | int, str | int, int]] = [
        (ld_w, 0, 0, 4),
        (jeq, "load_nr", "eperm", arch),
        ("load_nr", 0, 0, 0),
        *[(jeq, "eperm", 0, nr) for nr in denied],
        (jeq, "enosys", 0, clone3),
        (jeq, 0, "allow", clone),
        (ld_w, 0, 0, 16),
        (jset, "eperm", "allow", CLONE_NAMESPACES),
        ("allow", 0, 0, RET_ALLOW),
        ("eperm", 0, 0, RET_ERRNO | errno.EPERM),
        ("enosys", 0, 0, RET_ERRNO | errno.ENOSYS),
    ]
    labels = {entry[0]: index for index, entry in enumerate(code) if isinstance(entry[0], str)}
    real = {"load_nr": ld_w, "allow": ret, "eperm": ret, "enosys": ret}

    def offset(index: int, jump: str | int) -> int:
        return labels[jump] - index - 1 if isinstance(jump, str) else jump

    return b"".join(
        _insn(real[op] if isinstance(op, str) else op, offset(i, jt), offset(i, jf), k)
        for i, (op, jt, jf, k) in enumerate(code)
    )


def _prctl() -> ctypes._CFuncPtr:
    libc = ctypes.CDLL(None, use_errno=True)
    func = libc.prctl
    func.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return func


def confine(keep_caps: list[str] | None, no_new_privs: bool) -> None:
    """Drop capabilities, set no_new_privs (when asked) and load the filter in this process.

    Without no_new_privs, loading a filter needs CAP_SYS_ADMIN (root has it until it execs).
    """
    prctl = _prctl()
    if keep_caps is not None:
        for number, name in enumerate(CAPS):
            dropped = name in keep_caps or prctl(PR_CAPBSET_DROP, number, 0, 0, 0) == 0
            if not dropped and ctypes.get_errno() != errno.EINVAL:  # EINVAL: the kernel does not know this one
                raise OSError(ctypes.get_errno(), f"cannot drop CAP_{name}")
    if no_new_privs and prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot set no_new_privs")
    program = filter_program()
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(buffer))
    fprog_buf = ctypes.create_string_buffer(fprog, len(fprog))
    if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog_buf), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot load the seccomp filter")


def main(argv: list[str]) -> int:
    caps: list[str] | None = None
    user: int | None = None
    nnp = False
    while argv[:1] in (["--caps"], ["--user"], ["--nnp"]) and len(argv) > 1:
        if argv[0] == "--nnp":
            nnp, argv = True, argv[1:]
            continue
        if argv[0] == "--caps":
            caps = [c.strip().upper().removeprefix("CAP_") for c in argv[1].split(",") if c.strip()]
        else:
            user = int(argv[1])
        argv = argv[2:]
    if argv[:1] != ["--"] or len(argv) < 2:
        print(
            "usage: python -m tests.support.docker_like [--caps A,B] [--user UID] [--nnp] -- ARGV...", file=sys.stderr
        )
        return 2
    confine(caps, nnp)
    if user is not None and user != os.geteuid():
        os.setgroups([])
        os.setresgid(user, user, user)
        os.setresuid(user, user, user)
    os.execvp(argv[1], argv[1:])
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
