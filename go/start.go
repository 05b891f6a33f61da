// SPDX-License-Identifier: MIT

package cgctl

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
)

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
// cmd.SysProcAttr.Ptrace must not be set already. Wait for cmd as usual.
func (c *Client) StartInCgroup(ctx context.Context, name string, cmd *exec.Cmd) error {
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
