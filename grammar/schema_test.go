package grammar

import (
	"errors"
	"testing"
)

// matches reports whether g accepts all of s, and whether s is at least a
// valid prefix.
func matches(g *Grammar, s string) (whole, prefix bool) {
	st := g.start()
	for i := range len(s) {
		st = g.advance(&st, s[i])
		if st.dead() {
			return false, false
		}
	}
	return st.accept, true
}

func TestSchemaAcceptsAndRejects(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		accept []string
		reject []string
	}{
		{"string", `{"type":"string"}`,
			[]string{`"abc"`, `""`, ` "a\"b"`, `"\u00e9"`, `"é"`, `"\n\\"`},
			[]string{`abc`, `"a`, `"a"b`, "\"\n\"", `"\ud800"`, `"\x"`, `     "a"`}},
		{"integer", `{"type":"integer"}`,
			[]string{`0`, `-12`, `1234567890123456`},
			[]string{`01`, `-0x`, `1.5`, `12345678901234567`, `+1`}},
		{"number", `{"type":"number"}`,
			[]string{`0`, `-1.25`, `3.0`},
			[]string{`.5`, `1.`, `1e5`, `-`}},
		{"boolean and null", `{"type":["boolean","null"]}`,
			[]string{`true`, `false`, `null`},
			[]string{`True`, `nul`, `0`}},
		{"enum", `{"enum":["red","green",3,null,{"a":[1]}]}`,
			[]string{`"red"`, `"green"`, `3`, `null`, `{"a":[1]}`},
			[]string{`"blue"`, `"re"`, `4`}},
		{"const", `{"const":"x/y"}`, []string{`"x/y"`}, []string{`"x"`}},
		{"enum with type", `{"type":"integer","enum":[1,2.5,"a",3.0]}`, []string{`1`, `3.0`}, []string{`2.5`, `"a"`}},
		{"object", `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}`,
			[]string{`{"a":1}`, `{"a":1,"b":"x"}`, `{ "a" : 1 , "b" : "x" }`},
			[]string{`{}`, `{"b":"x"}`, `{"b":"x","a":1}`, `{"a":1,"c":2}`, `{"a":1,}`}},
		{"optional only", `{"properties":{"a":{"type":"integer"},"b":{"type":"integer"}}}`,
			[]string{`{}`, `{"a":1}`, `{"b":2}`, `{"a":1,"b":2}`},
			[]string{`{,"b":2}`, `{"a":1"b":2}`}},
		{"additional", `{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"boolean"}}`,
			[]string{`{}`, `{"a":1,"ab":true}`, `{"x":false,"y":true}`, `{"":true}`},
			[]string{`{"a":true}`, `{"ab":1}`, `{"a":1,"a":2}`}},
		{"property counts", `{"properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},"minProperties":1,"maxProperties":2}`,
			[]string{`{"a":1}`, `{"c":1}`, `{"a":1,"c":2}`, `{"b":1,"c":2}`},
			[]string{`{}`, `{"a":1,"b":2,"c":3}`}},
		{"counts with additional", `{"type":"object","additionalProperties":{"type":"null"},"minProperties":2,"maxProperties":3}`,
			[]string{`{"x":null,"y":null}`, `{"x":null,"y":null,"z":null}`},
			[]string{`{}`, `{"x":null}`, `{"w":null,"x":null,"y":null,"z":null}`}},
		{"only counts", `{"type":"object","maxProperties":1}`,
			[]string{`{}`, `{"k":[1]}`},
			[]string{`{"k":1,"l":2}`}},
		{"array", `{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3}`,
			[]string{`[1]`, `[1,2,3]`, `[ 1 , 2 ]`},
			[]string{`[]`, `[1,2,3,4]`, `[1,]`, `["a"]`}},
		{"tuple", `{"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":"boolean"},"minItems":1,"maxItems":3}`,
			[]string{`[1]`, `[1,"a"]`, `[1,"a",true]`, `[ 1 , "a" ]`},
			[]string{`[]`, `["a"]`, `[1,2]`, `[1,"a",true,false]`, `[1,true]`}},
		{"closed tuple", `{"prefixItems":[{"const":1},{"const":2}],"items":false}`,
			[]string{`[]`, `[1]`, `[1,2]`},
			[]string{`[1,2,3]`, `[2]`}},
		{"string lengths", `{"type":"string","minLength":2,"maxLength":3}`,
			[]string{`"ab"`, `"abc"`, `"a\n"`, `"éé"`},
			[]string{`"a"`, `"abcd"`}},
		{"pattern", `{"type":"string","pattern":"^[a-z]+-[0-9]{2}$"}`,
			[]string{`"ab-12"`},
			[]string{`"ab-1"`, `"Ab-12"`, `"ab-123"`}},
		{"unanchored pattern", `{"type":"string","pattern":"x\"y"}`,
			[]string{`"x\"y"`, `"aax\"ybb"`},
			[]string{`"xy"`, `"x"y"`}},
		{"integer range", `{"type":"integer","minimum":-5,"exclusiveMaximum":120}`,
			[]string{`-5`, `0`, `7`, `99`, `119`},
			[]string{`-6`, `120`, `200`, `-0`, `1000`}},
		{"number range", `{"type":"number","minimum":0,"maximum":10}`,
			[]string{`0`, `0.5`, `9.99`, `10`, `10.000`, `3`},
			[]string{`-1`, `10.01`, `11`, `-0.5`}},
		{"number exclusive range", `{"type":"number","exclusiveMinimum":1,"exclusiveMaximum":3}`,
			[]string{`1.5`, `1.01`, `2`, `2.999`},
			[]string{`1`, `1.0`, `3`, `3.0`, `0.5`}},
		{"number maximum only", `{"type":"number","maximum":2}`,
			[]string{`-5.5`, `-0.1`, `0`, `2`, `1.5`},
			[]string{`2.5`, `3`, `-0`}},
		{"anyOf", `{"anyOf":[{"type":"string"},{"type":"null"}]}`,
			[]string{`"a"`, `null`}, []string{`1`}},
		{"ref recursion", `{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#/$defs/node"}},"required":["v"]}},"$ref":"#/$defs/node"}`,
			[]string{`{"v":1}`, `{"v":1,"next":{"v":2,"next":{"v":3}}}`},
			[]string{`{"v":1,"next":{}}`}},
		{"any", `{}`, []string{`{"a":[1,{"b":null}]}`, `"s"`, `-1.5`, `[]`}, []string{`{a:1}`, `[1,]`}},
		{"format date", `{"type":"string","format":"date"}`, []string{`"2024-02-28"`}, []string{`"2024-13-01"`, `"x"`}},
		{"whitespace bounded", `{"type":"object","properties":{"a":{"type":"null"}},"required":["a"]}`,
			[]string{"{\n   \"a\":null}"}, []string{"{\n    \"a\":null}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := CompileSchema([]byte(tt.schema), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.accept {
				if whole, _ := matches(g, s); !whole {
					t.Errorf("%s rejected, want accepted", s)
				}
			}
			for _, s := range tt.reject {
				if whole, _ := matches(g, s); whole {
					t.Errorf("%s accepted, want rejected", s)
				}
			}
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	tests := []struct {
		schema  string
		want    error
		path    string
		keyword string
	}{
		{`{"type":"object","properties":{"a":{"type":"string","contentSchema":{}}}}`, ErrUnsupported, "/properties/a", "contentSchema"},
		{`{"type":"array","uniqueItems":true}`, ErrUnsupported, "", "uniqueItems"},
		{`{"type":"strin"}`, ErrInvalid, "", "type"},
		{`{"$ref":"#/$defs/missing"}`, ErrInvalid, "", "$ref"},
		{`{"$ref":"http://example.com/s.json"}`, ErrUnsupported, "", "$ref"},
		{`{"enum":[]}`, ErrUnsatisfiable, "", ""},
		{`{"type":"string","const":1}`, ErrUnsatisfiable, "", ""},
		{`{"type":"integer","minimum":5,"maximum":4}`, ErrUnsatisfiable, "", ""},
		{`{"$defs":{"a":{"type":"object","properties":{"x":{"$ref":"#/$defs/a"}},"required":["x"]}},"$ref":"#/$defs/a"}`, ErrUnsatisfiable, "", ""},
		{`{"type":"string","maxLength":1000000}`, ErrTooLarge, "", "maxLength"},
		{`{"type":"string","pattern":"\\bx"}`, ErrUnsupported, "", "pattern"},
		{`{"type":"string","pattern":"(("}`, ErrInvalid, "", "pattern"},
		{`[1]`, ErrInvalid, "", ""},
		{`{"properties":{"a":{}},"required":["a"],"maxProperties":0}`, ErrUnsatisfiable, "", ""},
		{`{"type":"number","minimum":0.5}`, ErrUnsupported, "", "minimum"},
		{`{"type":"number","maximum":-1}`, ErrUnsupported, "", "maximum"},
		{`{"type":"number","minimum":2,"exclusiveMaximum":2}`, ErrUnsatisfiable, "", ""},
	}
	for _, tt := range tests {
		_, err := CompileSchema([]byte(tt.schema), DefaultLimits())
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.schema, err, tt.want)
			continue
		}
		var se *SchemaError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %T is not a *SchemaError", tt.schema, err)
			continue
		}
		if se.Path != tt.path || se.Keyword != tt.keyword {
			t.Errorf("%s: at %q keyword %q, want %q %q", tt.schema, se.Path, se.Keyword, tt.path, tt.keyword)
		}
	}
}

func TestRegexJSONObjectAndChoice(t *testing.T) {
	g, err := CompileRegex(`(yes|no)[0-9]{1,2}`, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"yes1": true, "no42": true, "yes": false, "maybe1": false, "no123": false} {
		if whole, _ := matches(g, s); whole != want {
			t.Errorf("regex on %q: %v, want %v", s, whole, want)
		}
	}
	g, err = CompileJSON(true, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{`{"a":[1,{"b":"c"}]}`: true, ` {}`: true, `[1]`: false, `"x"`: false, `{"a":1}x`: false} {
		if whole, _ := matches(g, s); whole != want {
			t.Errorf("json object on %q: %v, want %v", s, whole, want)
		}
	}
	g, err = CompileChoice([]string{"Paris", "Par", "London"}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"Paris": true, "Par": true, "London": true, "Pari": false, "paris": false} {
		if whole, _ := matches(g, s); whole != want {
			t.Errorf("choice on %q: %v, want %v", s, whole, want)
		}
	}
}
