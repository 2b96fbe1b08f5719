package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jvalue is a parsed JSON value that keeps the order of object members,
// which the schema compiler needs (properties come out in schema order).
type jvalue struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' boolean, 'z' null
	obj  []jmember
	arr  []*jvalue
	str  string // string, or the number's text
	b    bool
}

// jmember is one member of an object.
type jmember struct {
	key string
	val *jvalue
}

// get returns the member key of an object, or nil.
func (v *jvalue) get(key string) *jvalue {
	if v == nil || v.kind != 'o' {
		return nil
	}
	for _, m := range v.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// kindName names a value's JSON type, as JSON Schema's "type" does.
func (v *jvalue) kindName() string {
	switch v.kind {
	case 'o':
		return "object"
	case 'a':
		return "array"
	case 's':
		return "string"
	case 'n':
		return "number"
	case 'b':
		return "boolean"
	}
	return "null"
}

// parseJSON parses one JSON value nested at most maxDepth deep.
func parseJSON(data []byte, maxDepth int) (*jvalue, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := readValue(d, maxDepth)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrInvalid)
	}
	return v, nil
}

// readValue reads the next value from d.
func readValue(d *json.Decoder, depth int) (*jvalue, error) {
	t, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch t := t.(type) {
	case json.Delim:
		if depth <= 0 {
			return nil, fmt.Errorf("%w: nested too deeply", ErrTooLarge)
		}
		if t == '{' {
			v := &jvalue{kind: 'o'}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
				}
				key, _ := kt.(string)
				val, err := readValue(d, depth-1)
				if err != nil {
					return nil, err
				}
				v.obj = append(v.obj, jmember{key: key, val: val})
			}
			return v, closing(d)
		}
		v := &jvalue{kind: 'a'}
		for d.More() {
			val, err := readValue(d, depth-1)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, val)
		}
		return v, closing(d)
	case string:
		return &jvalue{kind: 's', str: t}, nil
	case json.Number:
		return &jvalue{kind: 'n', str: t.String()}, nil
	case bool:
		return &jvalue{kind: 'b', b: t}, nil
	case nil:
		return &jvalue{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("%w: unexpected token %v", ErrInvalid, t)
}

// closing reads the delimiter that ends an object or array.
func closing(d *json.Decoder) error {
	if _, err := d.Token(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// encode appends v's compact JSON text to buf.
func (v *jvalue) encode(buf []byte) []byte {
	switch v.kind {
	case 'o':
		buf = append(buf, '{')
		for i, m := range v.obj {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, m.key)
			buf = append(buf, ':')
			buf = m.val.encode(buf)
		}
		return append(buf, '}')
	case 'a':
		buf = append(buf, '[')
		for i, e := range v.arr {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = e.encode(buf)
		}
		return append(buf, ']')
	case 's':
		return appendString(buf, v.str)
	case 'n':
		return append(buf, v.str...)
	case 'b':
		if v.b {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	}
	return append(buf, "null"...)
}

// appendString appends s as a JSON string, with no HTML escaping.
func appendString(buf []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}
