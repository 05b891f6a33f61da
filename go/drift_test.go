// SPDX-License-Identifier: MIT

package cgctl

// The Go binding held to protocol/io.cgctl.Manager.varlink: every method has
// a Client method and parameter and reply types whose fields match the
// declared ones, every error has a sentinel, and the reverse, so the client
// cannot drift from the daemon.

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// vlStruct is a parenthesised field list: name → declared type.
type vlStruct map[string]string

// vlInterface is what the interface file declares.
type vlInterface struct {
	types   map[string]vlStruct
	methods map[string][2]vlStruct // parameters, reply
	errors  map[string]vlStruct
}

// varlinkPath is the interface file, from go/ or as CGCTL_VARLINK says.
func varlinkPath() string {
	if p := os.Getenv("CGCTL_VARLINK"); p != "" {
		return p
	}
	return "../protocol/io.cgctl.Manager.varlink"
}

// parseFields splits "a: int, b: ?[]T" at top-level commas.
func parseFields(t *testing.T, s string) vlStruct {
	out := vlStruct{}
	depth, start := 0, 0
	s = strings.TrimSpace(s)
	add := func(f string) {
		f = strings.TrimSpace(f)
		if f == "" {
			return
		}
		kv := strings.SplitN(f, ":", 2)
		if len(kv) != 2 {
			t.Fatalf("varlink: bad field %q", f)
		}
		out[strings.TrimSpace(kv[0])] = strings.Join(strings.Fields(kv[1]), "")
	}
	for i, r := range s {
		switch r {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 {
				add(s[start:i])
				start = i + 1
			}
		}
	}
	add(s[start:])
	return out
}

// parseVarlink reads the interface file.
func parseVarlink(t *testing.T) *vlInterface {
	raw, err := os.ReadFile(varlinkPath())
	if err != nil {
		t.Fatalf("the interface file: %v", err)
	}
	text := regexp.MustCompile(`(?m)#.*$`).ReplaceAllString(string(raw), "")
	vi := &vlInterface{types: map[string]vlStruct{}, methods: map[string][2]vlStruct{}, errors: map[string]vlStruct{}}
	decl := regexp.MustCompile(`(?s)\b(type|method|error)\s+(\w+)\s*\(((?:[^()]|\([^()]*\))*)\)(?:\s*->\s*\(((?:[^()]|\([^()]*\))*)\))?`)
	for _, m := range decl.FindAllStringSubmatch(text, -1) {
		switch m[1] {
		case "type":
			vi.types[m[2]] = parseFields(t, m[3])
		case "method":
			vi.methods[m[2]] = [2]vlStruct{parseFields(t, m[3]), parseFields(t, m[4])}
		case "error":
			vi.errors[m[2]] = parseFields(t, m[3])
		}
	}
	if len(vi.methods) == 0 || len(vi.errors) == 0 {
		t.Fatal("varlink: no methods or errors found")
	}
	return vi
}

var rawMessage = reflect.TypeOf(json.RawMessage{})

// checkType reports where Go type gt does not carry varlink type vt.
func (vi *vlInterface) checkType(t *testing.T, where, vt string, gt reflect.Type) {
	if strings.HasPrefix(vt, "?") {
		switch gt.Kind() {
		case reflect.Ptr:
			vi.checkType(t, where, vt[1:], gt.Elem())
		case reflect.Slice, reflect.Map:
			vi.checkType(t, where, vt[1:], gt)
		default:
			t.Errorf("%s: optional %s needs a pointer, slice or map, is %s", where, vt, gt)
		}
		return
	}
	ok := true
	switch {
	case vt == "string":
		ok = gt.Kind() == reflect.String
	case vt == "int":
		ok = gt.Kind() == reflect.Int64
	case vt == "bool":
		ok = gt.Kind() == reflect.Bool
	case vt == "object":
		ok = gt == rawMessage
	case strings.HasPrefix(vt, "[]"):
		if ok = gt.Kind() == reflect.Slice && gt != rawMessage; ok {
			vi.checkType(t, where+"[]", vt[2:], gt.Elem())
		}
	case strings.HasPrefix(vt, "[string]"):
		if ok = gt.Kind() == reflect.Map && gt.Key().Kind() == reflect.String; ok {
			vi.checkType(t, where+"[k]", vt[8:], gt.Elem())
		}
	default:
		st, known := vi.types[vt]
		if !known {
			t.Errorf("%s: unknown varlink type %s", where, vt)
			return
		}
		vi.checkStruct(t, where+"("+vt+")", st, gt)
		return
	}
	if !ok {
		t.Errorf("%s: varlink %s, Go %s", where, vt, gt)
	}
}

// checkStruct reports every field of st that Go struct gt lacks or types differently, and every extra Go field.
func (vi *vlInterface) checkStruct(t *testing.T, where string, st vlStruct, gt reflect.Type) {
	if gt.Kind() != reflect.Struct {
		t.Errorf("%s: want a struct, Go has %s", where, gt)
		return
	}
	seen := map[string]bool{}
	for i := 0; i < gt.NumField(); i++ {
		f := gt.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		vt, ok := st[name]
		if !ok {
			t.Errorf("%s: Go field %s (%q) is not in the interface", where, f.Name, name)
			continue
		}
		seen[name] = true
		vi.checkType(t, where+"."+name, vt, f.Type)
	}
	for name := range st {
		if !seen[name] {
			t.Errorf("%s: field %q of the interface has no Go field", where, name)
		}
	}
}

// methodBindings: each method's Go parameter and reply types.
var methodBindings = map[string][2]reflect.Type{
	"GetStatus":    {reflect.TypeOf(getStatusParams{}), reflect.TypeOf(getStatusReply{})},
	"Create":       {reflect.TypeOf(createParams{}), reflect.TypeOf(createReply{})},
	"Destroy":      {reflect.TypeOf(destroyParams{}), reflect.TypeOf(destroyReply{})},
	"List":         {reflect.TypeOf(listParams{}), reflect.TypeOf(listReply{})},
	"Attach":       {reflect.TypeOf(attachParams{}), reflect.TypeOf(attachReply{})},
	"SetResources": {reflect.TypeOf(setResourcesParams{}), reflect.TypeOf(setResourcesReply{})},
	"GetStats":     {reflect.TypeOf(getStatsParams{}), reflect.TypeOf(getStatsReply{})},
	"Freeze":       {reflect.TypeOf(freezeParams{}), reflect.TypeOf(freezeReply{})},
	"Thaw":         {reflect.TypeOf(thawParams{}), reflect.TypeOf(thawReply{})},
	"Kill":         {reflect.TypeOf(killParams{}), reflect.TypeOf(killReply{})},
	"Watch":        {reflect.TypeOf(watchParams{}), reflect.TypeOf(watchReply{})},
	"OpenCgroup":   {reflect.TypeOf(openCgroupParams{}), reflect.TypeOf(openCgroupReply{})},
	"Snapshot":     {reflect.TypeOf(snapshotParams{}), reflect.TypeOf(snapshotReply{})},
}

func TestDriftMethods(t *testing.T) {
	vi := parseVarlink(t)
	client := reflect.TypeOf(&Client{})
	for name, sig := range vi.methods {
		b, ok := methodBindings[name]
		if !ok {
			t.Errorf("method %s of the interface has no Go binding", name)
			continue
		}
		if _, ok := client.MethodByName(name); !ok {
			t.Errorf("method %s of the interface has no (*Client).%s", name, name)
		}
		vi.checkStruct(t, name+" parameters", sig[0], b[0])
		vi.checkStruct(t, name+" reply", sig[1], b[1])
	}
	for name := range methodBindings {
		if _, ok := vi.methods[name]; !ok {
			t.Errorf("Go binds method %s, which the interface does not declare", name)
		}
	}
}

func TestDriftErrors(t *testing.T) {
	vi := parseVarlink(t)
	for name := range vi.errors {
		if _, ok := errorsByName[Interface+"."+name]; !ok {
			t.Errorf("error %s of the interface has no Go sentinel (Err%s)", name, name)
		}
	}
	for full := range errorsByName {
		if name := strings.TrimPrefix(full, Interface+"."); name != full {
			if _, ok := vi.errors[name]; !ok {
				t.Errorf("Go has a sentinel for %s, which the interface does not declare", full)
			}
		}
	}
}

func TestDriftResources(t *testing.T) {
	vi := parseVarlink(t)
	// The wire form of Resources and the named types the interface shares with replies.
	vi.checkStruct(t, "Resources", vi.types["Resources"], reflect.TypeOf(wireResources{}))
	for name, gt := range map[string]reflect.Type{"Entry": reflect.TypeOf(Entry{}), "Status": reflect.TypeOf(Status{}),
		"Stats": reflect.TypeOf(Stats{}), "Event": reflect.TypeOf(Event{})} {
		vi.checkStruct(t, name, vi.types[name], gt)
	}
}
