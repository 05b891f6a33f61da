// SPDX-License-Identifier: MIT

package cgctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// CreateOptions are Create's parameters; the zero value creates a plain cgroup named Name.
type CreateOptions struct {
	Name       string            // "" (or Generate): the daemon makes one up, below Prefix
	Generate   bool              // make a name up (Name must be "")
	Prefix     string            // parent of a generated name
	Labels     map[string]string // kept in the ledger, returned by List
	Resources  *Resources        // initial limits, OCI linux.resources shape
	Delegate   bool              // hand the cgroup over whole
	AutoRemove bool              // removed once it becomes empty
	Lease      bool              // removed (processes killed) when this Client's connection closes
}

// DestroyOptions are Destroy's flags.
type DestroyOptions struct {
	Recursive bool // remove managed children too
	Kill      bool // kill the processes inside first
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// optTrue is a pointer to true for a set flag, nil (left out) otherwise.
func optTrue(b bool) *bool {
	if b {
		return ptr(true)
	}
	return nil
}

// optStr is a pointer to s, nil when empty.
func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// maxWaitMs is the longest timeout_ms the daemon takes (cgctld(8)).
const maxWaitMs = 300000

// waitMs is the daemon-side wait bound for ctx: its remaining time (at most
// maxWaitMs, the daemon's limit), nil without a deadline.
func waitMs(ctx context.Context) *int64 {
	dl, ok := ctx.Deadline()
	if !ok {
		return nil
	}
	ms := time.Until(dl).Milliseconds() - 50 // leave time for the reply
	if ms < 1 {
		ms = 1
	} else if ms > maxWaitMs {
		ms = maxWaitMs
	}
	return &ms
}

// GetStatus returns the daemon's state, delegation and ledger figures.
func (c *Client) GetStatus(ctx context.Context) (*Status, error) {
	var out getStatusReply
	if _, err := c.call(ctx, "GetStatus", nil, &out, nil); err != nil {
		return nil, err
	}
	return &out.Status, nil
}

// Create makes a cgroup. ErrNoDelegation means the daemon has no writable
// subtree: run without cgroups, as runc does on ErrRootless.
func (c *Client) Create(ctx context.Context, o CreateOptions) (*Entry, error) {
	res, err := o.Resources.toWire()
	if err != nil {
		return nil, err
	}
	p := createParams{Name: optStr(o.Name), Generate: optTrue(o.Generate), Prefix: optStr(o.Prefix),
		Resources: res, Delegate: optTrue(o.Delegate), AutoRemove: optTrue(o.AutoRemove),
		Lease: optTrue(o.Lease), Labels: o.Labels}
	var out createReply
	if _, err := c.call(ctx, "Create", p, &out, nil); err != nil {
		return nil, err
	}
	return &out.Entry, nil
}

// Destroy removes a cgroup the daemon created; one it never created (or
// that is gone) is a success with Existed false.
func (c *Client) Destroy(ctx context.Context, name string, o DestroyOptions) (*DestroyResult, error) {
	p := destroyParams{Name: name, Recursive: optTrue(o.Recursive), Kill: optTrue(o.Kill), TimeoutMs: waitMs(ctx)}
	var out destroyReply
	if _, err := c.call(ctx, "Destroy", p, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns the managed cgroups, all (name "") or the subtree below name.
func (c *Client) List(ctx context.Context, name string) ([]Entry, error) {
	var out listReply
	if _, err := c.call(ctx, "List", listParams{Name: optStr(name)}, &out, nil); err != nil {
		return nil, err
	}
	return out.Entries, nil
}

// Attach moves processes into a cgroup by pid; it returns the pids moved.
func (c *Client) Attach(ctx context.Context, name string, pids ...int) ([]int64, error) {
	p := attachParams{Name: name}
	for _, pid := range pids {
		p.Pids = append(p.Pids, int64(pid))
	}
	var out attachReply
	if _, err := c.call(ctx, "Attach", p, &out, nil); err != nil {
		return nil, err
	}
	return out.Attached, nil
}

// AttachPidfds moves processes into a cgroup by pidfd (pidfd_open(2)),
// passed with SCM_RIGHTS: no pid-reuse race. The descriptors stay the caller's.
func (c *Client) AttachPidfds(ctx context.Context, name string, pidfds ...int) ([]int64, error) {
	p := attachParams{Name: name, Pidfds: ptr(int64(len(pidfds)))}
	var out attachReply
	if _, err := c.call(ctx, "Attach", p, &out, pidfds); err != nil {
		return nil, err
	}
	return out.Attached, nil
}

// PidfdOpen returns a pidfd of pid (close-on-exec), for AttachPidfds.
func PidfdOpen(pid int) (int, error) {
	const sysPidfdOpen = 434 // the same number on every architecture
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return -1, os.NewSyscallError("pidfd_open", errno)
	}
	return int(fd), nil
}

// AttachProcess moves p into a cgroup through a pidfd of it. A process
// already waited for (p.Wait) is refused with os.ErrProcessDone: its pid may
// name another process by then.
func (c *Client) AttachProcess(ctx context.Context, name string, p *os.Process) error {
	fd, err := PidfdOpen(p.Pid)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	// Opened first: while p is not done (reaped), its pid cannot have been
	// reused, so the pidfd is p's.
	if err := p.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("cgctl: AttachProcess: pid %d: %w", p.Pid, err)
	}
	_, err = c.AttachPidfds(ctx, name, fd)
	return err
}

// SetResources applies limits (OCI linux.resources shape); the daemon checks all before writing any.
func (c *Client) SetResources(ctx context.Context, name string, r *Resources) error {
	if r == nil {
		r = &Resources{}
	}
	w, err := r.toWire()
	if err != nil {
		return err
	}
	_, err = c.call(ctx, "SetResources", setResourcesParams{Name: name, Resources: *w}, nil, nil)
	return err
}

// Snapshot returns the daemon's figures and the statistics top shows of every
// managed cgroup, or of the subtrees below names, in one round trip. A name
// with no managed cgroup at or below it is ErrNotFound.
func (c *Client) Snapshot(ctx context.Context, names ...string) (*Snapshot, error) {
	var out snapshotReply
	if _, err := c.call(ctx, "Snapshot", snapshotParams{Names: names}, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetStats returns the cgroup's state, pids and statistics files.
func (c *Client) GetStats(ctx context.Context, name string) (*Stats, error) {
	var out getStatsReply
	if _, err := c.call(ctx, "GetStats", getStatsParams{Name: name}, &out, nil); err != nil {
		return nil, err
	}
	return &out.Stats, nil
}

// Freeze stops every process, returning once the kernel says frozen (bounded by ctx).
func (c *Client) Freeze(ctx context.Context, name string) error {
	_, err := c.call(ctx, "Freeze", freezeParams{Name: name, TimeoutMs: waitMs(ctx)}, nil, nil)
	return err
}

// Thaw resumes them, returning once the kernel says thawed.
func (c *Client) Thaw(ctx context.Context, name string) error {
	_, err := c.call(ctx, "Thaw", thawParams{Name: name, TimeoutMs: waitMs(ctx)}, nil, nil)
	return err
}

// Kill signals every process (sig 0: SIGKILL through cgroup.kill).
func (c *Client) Kill(ctx context.Context, name string, sig syscall.Signal) error {
	p := killParams{Name: name, TimeoutMs: waitMs(ctx)}
	if sig != 0 {
		p.Signal = ptr(int64(sig))
	}
	_, err := c.call(ctx, "Kill", p, nil, nil)
	return err
}

// OpenCgroup returns the cgroup's directory, e.g. for clone3(CLONE_INTO_CGROUP)
// (Go >= 1.20: SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}). Close it.
func (c *Client) OpenCgroup(ctx context.Context, name string) (*os.File, error) {
	var out openCgroupReply
	fds, err := c.call(ctx, "OpenCgroup", openCgroupParams{Name: name}, &out, nil)
	if err != nil {
		return nil, err
	}
	if out.Fd < 0 || int(out.Fd) >= len(fds) {
		closeFds(fds)
		return nil, fmt.Errorf("cgctl: OpenCgroup: descriptor %d of %d", out.Fd, len(fds))
	}
	fd := fds[out.Fd]
	fds = append(fds[:out.Fd], fds[out.Fd+1:]...)
	closeFds(fds)
	return os.NewFile(uintptr(fd), out.Path), nil
}
