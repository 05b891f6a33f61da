// SPDX-License-Identifier: MIT

package cgctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Watcher is a stream of events on a connection of its own.
type Watcher struct {
	c      *Client
	events chan Event
	mu     sync.Mutex
	err    error
	cancel context.CancelFunc
}

// Watch follows every managed cgroup (no names) or the subtrees below names,
// on a new connection to the same socket. It returns once the daemon has
// confirmed the watch: no event after that is missed. Events arrive on
// Events() until ctx is cancelled, Close is called, or the watch ends (Err
// says why: nil after a cancel, and when the daemon stopped, whose last event
// is then "stopping"; ErrQuotaExceeded when it fell too far behind; another
// error when the connection broke, as when the daemon died).
func (c *Client) Watch(ctx context.Context, names ...string) (*Watcher, error) {
	return c.WatchPressure(ctx, nil, names...)
}

// WatchPressure is Watch with PSI triggers armed for this stream alone: each
// time the kernel fires one, a "pressure" event comes (details: resource,
// kind, stall_us, window_us, avg10, avg60, avg300, total).
func (c *Client) WatchPressure(ctx context.Context, triggers []PressureTrigger, names ...string) (*Watcher, error) {
	wc, err := Dial(ctx, c.path)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &Watcher{c: wc, events: make(chan Event, 64), cancel: cancel}
	if err := w.start(ctx, names, triggers); err != nil {
		cancel()
		wc.Close()
		return nil, err
	}
	go w.run(wctx)
	return w, nil
}

// Events is the channel of events; closed when the watch ends.
func (w *Watcher) Events() <-chan Event { return w.events }

// Err says why the watch ended (nil while it runs and after a cancel).
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close ends the watch and its connection.
func (w *Watcher) Close() error {
	w.cancel()
	return nil
}

// start sends the call and waits (bounded by ctx) for the "watching" reply.
func (w *Watcher) start(ctx context.Context, names []string, triggers []PressureTrigger) error {
	c := w.c
	stop, err := c.arm(ctx)
	if err != nil {
		return err
	}
	defer stop()
	req := request{Method: Interface + ".Watch", Parameters: watchParams{Names: names, Pressure: triggers}, More: true}
	if err := c.send(req, nil); err != nil {
		return c.fail(ctx, err)
	}
	ev, err := w.next()
	if err != nil {
		return c.fail(ctx, err)
	}
	if ev.Type != "watching" {
		return fmt.Errorf("cgctl: Watch: first reply %q, want \"watching\"", ev.Type)
	}
	return c.conn.SetDeadline(noDeadline)
}

// next reads one event; a daemon error or the end of the stream is an error.
func (w *Watcher) next() (*Event, error) {
	rep, fds, err := w.c.recv()
	closeFds(fds)
	if err != nil {
		return nil, err
	}
	if rep.Error != "" {
		return nil, newError(rep.Error, rep.Parameters)
	}
	var out watchReply
	if err := json.Unmarshal(rep.Parameters, &out); err != nil {
		return nil, fmt.Errorf("cgctl: Watch: undecodable event: %w", err)
	}
	if !rep.Continues {
		return &out.Event, errStreamEnd
	}
	return &out.Event, nil
}

// errStreamEnd marks the final reply of the stream.
var errStreamEnd = errors.New("cgctl: the watch stream ended")

// run delivers events until the stream ends or ctx is done.
func (w *Watcher) run(ctx context.Context) {
	defer close(w.events)
	defer w.c.Close()
	go func() {
		<-ctx.Done()
		w.c.conn.Close() // unblocks the read below
	}()
	for {
		ev, err := w.next()
		if ev != nil && (err == nil || err == errStreamEnd) {
			select {
			case w.events <- *ev:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			if ctx.Err() == nil && err != errStreamEnd {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
			}
			w.cancel()
			return
		}
	}
}
