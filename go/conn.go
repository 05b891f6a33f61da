// SPDX-License-Identifier: MIT

// Package cgctl is the Go client of cgctld, the per-user cgroup v2 daemon:
// io.cgctl.Manager over Varlink on a Unix socket, with the standard library only.
//
// A Client holds one connection and makes one call at a time (calls from
// several goroutines are serialised). Every call takes a context: its
// deadline bounds the call, and cancelling it abandons the call, which breaks
// the connection (Varlink has no way to cancel a call), so later calls fail
// with ErrBroken: Close the client and Dial again.
package cgctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Interface is the Varlink interface cgctld implements.
const Interface = "io.cgctl.Manager"

const (
	replyMax = 16 << 20 // bytes of one reply, as libcgctl
	fdsMax   = 64       // descriptors held for one reply
)

// ErrBroken reports a connection an earlier failure (a cancelled call, a
// transport error, the daemon hanging up) left unusable: Close and Dial again.
var ErrBroken = errors.New("cgctl: connection broken by an earlier failure")

// PeerError reports a socket answered by a process that is neither the
// caller's own user nor root: nothing was sent to it.
type PeerError struct {
	Path string
	UID  uint32
	PID  int32
}

// Error describes the refused peer.
func (e *PeerError) Error() string {
	return fmt.Sprintf("cgctl: %s is served by uid %d (pid %d), neither this user nor root: refused", e.Path, e.UID, e.PID)
}

// Client is one connection to cgctld.
type Client struct {
	mu     sync.Mutex
	conn   *net.UnixConn
	path   string
	buf    []byte // bytes read past the last reply
	fds    []int  // descriptors received and not yet handed out
	broken error
}

// DefaultSocket is where Dial("") connects: $CGCTL_SOCKET, else
// $XDG_RUNTIME_DIR/cgctl/io.cgctl.Manager, else /run/user/UID/cgctl/io.cgctl.Manager.
func DefaultSocket() string {
	if s := os.Getenv("CGCTL_SOCKET"); s != "" {
		return s
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = "/run/user/" + strconv.Itoa(os.Getuid())
	}
	return filepath.Join(dir, "cgctl", Interface)
}

// Dial connects to the daemon at path ("" for DefaultSocket()) and checks,
// before sending anything, that the daemon runs as this user or as root.
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		path = DefaultSocket()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	conn := nc.(*net.UnixConn)
	if err := checkPeer(conn, path); err != nil {
		conn.Close()
		return nil, err
	}
	return &Client{conn: conn, path: path}, nil
}

// checkPeer refuses a server that is neither this uid nor root (SO_PEERCRED).
func checkPeer(conn *net.UnixConn, path string) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("cgctl: SO_PEERCRED of %s: %w", path, cerr)
	}
	if cred.Uid != uint32(os.Getuid()) && cred.Uid != 0 {
		return &PeerError{Path: path, UID: cred.Uid, PID: cred.Pid}
	}
	return nil
}

// Close closes the connection (ending any lease it holds) and the descriptors it still holds.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	closeFds(c.fds)
	c.fds = nil
	if c.broken == nil {
		c.broken = ErrBroken
	}
	return c.conn.Close()
}

// closeFds closes every descriptor of fds.
func closeFds(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

// request is one Varlink call on the wire.
type request struct {
	Method     string      `json:"method"`
	Parameters interface{} `json:"parameters,omitempty"`
	More       bool        `json:"more,omitempty"`
}

// reply is one Varlink reply on the wire.
type reply struct {
	Parameters json.RawMessage `json:"parameters"`
	Error      string          `json:"error"`
	Continues  bool            `json:"continues"`
}

// call makes one call: out (if not nil) gets the reply parameters; the
// descriptors that came with the reply are returned, the caller's to close.
func (c *Client) call(ctx context.Context, method string, params, out interface{}, sendFds []int) ([]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	stop, err := c.arm(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := c.send(request{Method: Interface + "." + method, Parameters: params}, sendFds); err != nil {
		return nil, c.fail(ctx, err)
	}
	rep, fds, err := c.recv()
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	if rep.Continues {
		closeFds(fds)
		return nil, c.fail(ctx, fmt.Errorf("cgctl: %s: a streaming reply to a plain call", method))
	}
	if rep.Error != "" {
		closeFds(fds)
		return nil, newError(rep.Error, rep.Parameters)
	}
	if out != nil && len(rep.Parameters) > 0 {
		if err := json.Unmarshal(rep.Parameters, out); err != nil {
			closeFds(fds)
			return nil, fmt.Errorf("cgctl: %s: undecodable reply: %w", method, err)
		}
	}
	return fds, nil
}

// arm applies ctx's deadline to the connection and unblocks it when ctx is cancelled.
func (c *Client) arm(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dl, _ := ctx.Deadline()
	if err := c.conn.SetDeadline(dl); err != nil {
		return nil, err
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			c.conn.SetDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	// Wait for the watcher: a cancel just after the call returned must not
	// set its past deadline after the next call armed the connection.
	return func() { close(done); <-exited }, nil
}

// fail breaks the connection after a transport failure; ctx's error wins when it is the cause.
func (c *Client) fail(ctx context.Context, err error) error {
	// The socket's deadline may fire a moment before ctx's own timer marks it done.
	if dl, ok := ctx.Deadline(); ok && ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) &&
		!time.Now().Before(dl) {
		err = context.DeadlineExceeded
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	c.broken = fmt.Errorf("%w (%v)", ErrBroken, err)
	return err
}

// send writes one message, with fds (SCM_RIGHTS) on its first byte.
func (c *Client) send(req request, fds []int) error {
	msg, err := json.Marshal(req)
	if err != nil {
		return err
	}
	msg = append(msg, 0)
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	for len(msg) > 0 {
		n, _, err := c.conn.WriteMsgUnix(msg, oob, nil)
		if err != nil {
			return err
		}
		msg, oob = msg[n:], nil
	}
	return nil
}

// recv reads the next NUL-terminated reply and the descriptors that came before its end.
func (c *Client) recv() (*reply, []int, error) {
	for {
		if i := bytes.IndexByte(c.buf, 0); i >= 0 {
			msg := c.buf[:i]
			c.buf = append([]byte(nil), c.buf[i+1:]...)
			fds := c.fds
			c.fds = nil
			var rep reply
			if err := json.Unmarshal(msg, &rep); err != nil {
				closeFds(fds)
				return nil, nil, fmt.Errorf("cgctl: not a Varlink reply: %w", err)
			}
			return &rep, fds, nil
		}
		if len(c.buf) > replyMax {
			return nil, nil, errors.New("cgctl: reply over 16 MiB")
		}
		if err := c.readMore(); err != nil {
			return nil, nil, err
		}
	}
}

// readMore reads what the socket has, keeping any descriptors that came with it.
func (c *Client) readMore() error {
	b := make([]byte, 64<<10)
	oob := make([]byte, syscall.CmsgSpace(fdsMax*4))
	n, oobn, _, _, err := c.conn.ReadMsgUnix(b, oob)
	if oobn > 0 {
		if ferr := c.takeFds(oob[:oobn]); ferr != nil && err == nil {
			err = ferr
		}
	}
	if n > 0 {
		c.buf = append(c.buf, b[:n]...)
		return nil
	}
	if err == nil {
		err = errors.New("cgctl: the daemon closed the connection")
	}
	return err
}

// takeFds keeps the descriptors of the control messages, close-on-exec.
func (c *Client) takeFds(oob []byte) error {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return err
	}
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			syscall.CloseOnExec(fd)
		}
		c.fds = append(c.fds, fds...)
	}
	if len(c.fds) > fdsMax {
		return errors.New("cgctl: too many descriptors with one reply")
	}
	return nil
}

// noDeadline clears a connection's deadline.
var noDeadline time.Time
