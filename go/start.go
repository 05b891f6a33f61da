// SPDX-License-Identifier: MIT

package cgctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// ErrPrivilegedProgram is StartInCgroup's refusal of a program that gains
// privileges when it is executed (setuid or setgid to another id, or file
// capabilities): the kernel ignores them when the exec is traced by a process
// without CAP_SYS_PTRACE, so under StartInCgroup's ptrace the program would
// run as the caller, not as it asks. Start it with StartThenAttach, or with Go 1.20 or later through
// OpenCgroup and SysProcAttr.UseCgroupFD.
var ErrPrivilegedProgram = errors.New("cgctl: StartInCgroup: the program gains privileges at exec " +
	"(setuid, setgid or file capabilities), which the kernel ignores in a traced process; " +
	"use StartThenAttach, or SysProcAttr.UseCgroupFD (Go 1.20 or later)")

// StartInCgroup starts cmd with its process already in cgroup name when the
// new program runs its first instruction.
//
// Go 1.20 and later can do this in the kernel: open the cgroup with
// OpenCgroup and start cmd with SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
// (clone3 with CLONE_INTO_CGROUP). Go 1.19, which this package supports, has
// no such field, so StartInCgroup has the child stop at its execve (ptrace's
// PTRACE_TRACEME, SysProcAttr.Ptrace), moves it by pidfd while it is stopped,
// and lets it go (PTRACE_DETACH): nothing of the new program runs outside
// the cgroup. Where ptrace is not allowed (Yama ptrace_scope 3, a seccomp
// profile) cmd.Start fails; use StartThenAttach, which has a short window.
// A traced execve ignores setuid, setgid and file capabilities (unless the
// tracer holds CAP_SYS_PTRACE), so a program that would gain privileges from
// them is refused (ErrPrivilegedProgram) rather than run without them. cmd.SysProcAttr.Ptrace must not be set
// already. Wait for cmd as usual.
func (c *Client) StartInCgroup(ctx context.Context, name string, cmd *exec.Cmd) error {
	if path := programPath(cmd); gainsPrivileges(path) {
		return fmt.Errorf("%w: %s", ErrPrivilegedProgram, path)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if cmd.SysProcAttr.Ptrace {
		return errors.New("cgctl: StartInCgroup: cmd is already to be traced")
	}
	cmd.SysProcAttr.Ptrace = true
	defer func() { cmd.SysProcAttr.Ptrace = false }()
	// The tracer is the thread that forked; only it may detach.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, syscall.WALL, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || !ws.Stopped() {
			cmd.Process.Kill()
			return fmt.Errorf("cgctl: StartInCgroup: the child did not stop at exec (%v, status %v)", err, ws)
		}
		break
	}
	err := c.AttachProcess(ctx, name, cmd.Process)
	if err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if derr := syscall.PtraceDetach(pid); derr != nil && err == nil {
		syscall.Kill(pid, syscall.SIGKILL)
		err = fmt.Errorf("cgctl: StartInCgroup: PTRACE_DETACH: %w", derr)
	}
	if err != nil {
		cmd.Wait()
		return err
	}
	return nil
}

// programPath is the file cmd will execute (a relative Path is taken in cmd.Dir, as exec does).
func programPath(cmd *exec.Cmd) string {
	if cmd.Dir != "" && !filepath.IsAbs(cmd.Path) {
		return filepath.Join(cmd.Dir, cmd.Path)
	}
	return cmd.Path
}

// gainsPrivileges reports whether executing path under the caller's ptrace
// would drop privileges it grants: unless the caller holds CAP_SYS_PTRACE
// (the kernel then honours them for its tracee), see grantsPrivileges.
func gainsPrivileges(path string) bool {
	return !hasCapSysPtrace() && grantsPrivileges(path)
}

// hasCapSysPtrace reports whether CAP_SYS_PTRACE is in the caller's effective set.
func hasCapSysPtrace() bool {
	const capSysPtrace = 19
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "CapEff:") {
			eff, err := strconv.ParseUint(strings.TrimSpace(l[len("CapEff:"):]), 16, 64)
			return err == nil && eff&(1<<capSysPtrace) != 0
		}
	}
	return false
}

// grantsPrivileges reports whether executing path would change the caller's
// effective ids or capabilities: a setuid bit of another owner, a setgid bit
// of a group the caller is not in, or a security.capability attribute, on a
// mount without nosuid. A file it cannot read is left for cmd.Start to report.
func grantsPrivileges(path string) bool {
	var st syscall.Stat_t
	var fs syscall.Statfs_t

	if syscall.Stat(path, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return false
	}
	if syscall.Statfs(path, &fs) == nil && fs.Flags&syscall.MS_NOSUID != 0 {
		return false
	}
	if st.Mode&syscall.S_ISUID != 0 && int(st.Uid) != os.Geteuid() {
		return true
	}
	if st.Mode&(syscall.S_ISGID|syscall.S_IXGRP) == syscall.S_ISGID|syscall.S_IXGRP && !inGroup(int(st.Gid)) {
		return true
	}
	n, err := syscall.Getxattr(path, "security.capability", nil)
	return err == nil && n > 0
}

// inGroup reports whether gid is the caller's effective group or one of its supplementary groups.
func inGroup(gid int) bool {
	if gid == os.Getegid() {
		return true
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}

// StartThenAttach starts cmd and moves it into cgroup name by pidfd right
// after. The process runs in the caller's cgroup until then, so children it
// forks in that window stay behind: prefer StartInCgroup (or, with Go >=
// 1.20, UseCgroupFD). On failure to attach the process is killed and reaped.
func (c *Client) StartThenAttach(ctx context.Context, name string, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := c.AttachProcess(ctx, name, cmd.Process); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	return nil
}
