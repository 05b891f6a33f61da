// SPDX-License-Identifier: MIT

package cgctl

import (
	"encoding/json"
	"fmt"
)

// Error is an error reply of the daemon: its Varlink error name, the message
// that came with it, and its parameters. Test for a kind with errors.Is:
//
//	if errors.Is(err, cgctl.ErrNoDelegation) { /* run without cgroups */ }
//
// A name this client does not know matches ErrUnknown.
type Error struct {
	Name       string          // fully qualified: "io.cgctl.Manager.NotFound"
	Message    string          // the daemon's explanation, "" when none
	Parameters json.RawMessage // the error's parameters object
}

// Error prints the name and the message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "cgctl: " + e.Name
	}
	return fmt.Sprintf("cgctl: %s: %s", e.Name, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) true for any NotFound reply, and
// errors.Is(err, ErrUnknown) true for any name this client does not know.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t == ErrUnknown {
		_, known := errorsByName[e.Name]
		return !known
	}
	return t.Message == "" && t.Parameters == nil && t.Name == e.Name
}

// The daemon's errors, one for each error of the io.cgctl.Manager interface
// and of org.varlink.service.
var (
	// ErrNotFound: no such cgroup.
	ErrNotFound = &Error{Name: Interface + ".NotFound"}
	// ErrAlreadyExists: a cgroup of that name exists.
	ErrAlreadyExists = &Error{Name: Interface + ".AlreadyExists"}
	// ErrInvalidName: the name breaks the naming rules.
	ErrInvalidName = &Error{Name: Interface + ".InvalidName"}
	// ErrInvalidValue: a limit, label or other parameter is out of range.
	ErrInvalidValue = &Error{Name: Interface + ".InvalidValue"}
	// ErrNoDelegation: the daemon has no writable subtree; run without
	// cgroups, as runc does on its ErrRootless.
	ErrNoDelegation = &Error{Name: Interface + ".NoDelegation"}
	// ErrControllerUnavailable: a limit needs a controller that is not enabled.
	ErrControllerUnavailable = &Error{Name: Interface + ".ControllerUnavailable"}
	// ErrBusy: processes or children are left inside.
	ErrBusy = &Error{Name: Interface + ".Busy"}
	// ErrPermissionDenied: the kernel or the daemon refused.
	ErrPermissionDenied = &Error{Name: Interface + ".PermissionDenied"}
	// ErrQuotaExceeded: a per-user or per-connection limit of the daemon.
	ErrQuotaExceeded = &Error{Name: Interface + ".QuotaExceeded"}
	// ErrTimeout: the daemon gave up waiting (or is stopping).
	ErrTimeout = &Error{Name: Interface + ".Timeout"}
	// ErrSystemError: an unexpected kernel error; see SystemErrno.
	ErrSystemError = &Error{Name: Interface + ".SystemError"}
	// ErrReplaced: the cgroup's directory is no longer the one cgctld made
	// (another program removed and re-made it); nothing was touched and the
	// daemon no longer manages the name.
	ErrReplaced = &Error{Name: Interface + ".Replaced"}

	// ErrInterfaceNotFound, ErrMethodNotFound, ErrMethodNotImplemented and
	// ErrInvalidParameter are org.varlink.service's.
	ErrInterfaceNotFound    = &Error{Name: "org.varlink.service.InterfaceNotFound"}
	ErrMethodNotFound       = &Error{Name: "org.varlink.service.MethodNotFound"}
	ErrMethodNotImplemented = &Error{Name: "org.varlink.service.MethodNotImplemented"}
	ErrInvalidParameter     = &Error{Name: "org.varlink.service.InvalidParameter"}

	// ErrUnknown matches every error whose name this client does not know
	// (one a newer daemon added): treat it as a generic failure.
	ErrUnknown = &Error{Name: ""}
)

// errorsByName holds every error above by its wire name.
var errorsByName = map[string]*Error{}

func init() {
	for _, e := range []*Error{ErrNotFound, ErrAlreadyExists, ErrInvalidName, ErrInvalidValue,
		ErrNoDelegation, ErrControllerUnavailable, ErrBusy, ErrPermissionDenied, ErrQuotaExceeded,
		ErrTimeout, ErrSystemError, ErrReplaced, ErrInterfaceNotFound, ErrMethodNotFound, ErrMethodNotImplemented,
		ErrInvalidParameter} {
		errorsByName[e.Name] = e
	}
}

// newError builds the Error of an error reply.
func newError(name string, params json.RawMessage) *Error {
	e := &Error{Name: name, Parameters: params}
	var p struct {
		Message string `json:"message"`
	}
	if len(params) > 0 && json.Unmarshal(params, &p) == nil {
		e.Message = p.Message
	}
	if e.Parameters == nil {
		e.Parameters = json.RawMessage("{}")
	}
	return e
}

// Param decodes one parameter of the error (e.g. "field" of InvalidValue) into v; false when absent.
func (e *Error) Param(key string, v interface{}) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(e.Parameters, &m) != nil {
		return false
	}
	raw, ok := m[key]
	return ok && json.Unmarshal(raw, v) == nil
}
